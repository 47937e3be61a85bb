import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension CodexCLITests {
    /// Interrupts that really stop: the stream, the commands, and — when the server does not
    /// answer — the process.
    @Suite("Interrupt")
    struct Interrupt {
        @Test("Interrupt mid-stream: the stream stops, the turn ends interrupted, the process stays, the next turn works")
        func midStream() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.slow(), .text("After ", "the interrupt."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await CodexTestbed.waitForMessage(session.client, after: mark) { $0.type == .assistant }
                let process = try #require(CodexTestbed.codexChildren().first)
                await manager.interrupt(session.id)
                try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(30))
                #expect(await manager.status(session.id) == .interrupted)
                let stream = try await bed.api.streams.wait(within: .seconds(30)) { !$0.isEmpty }.first
                #expect(stream?.aborted == true, "codex cut the model stream")
                #expect((stream?.deltasWritten ?? 0) < 600)
                let during = Array(session.client.messages.dropFirst(mark))
                #expect(!during.contains { $0.type == .error || $0.type == .done }, "\(during.map(\.type))")

                let next = try await bed.turn(manager, session, "Go on")
                #expect(CodexTestbed.assistantText(next) == "After the interrupt.")
                #expect(CodexTestbed.codexChildren().map(\.pid) == [process.pid], "the process stayed")
                let last = try #require(bed.api.requests.items.last)
                #expect(last.userTexts == ["Count slowly", "Go on"])
                #expect(last.hasTurnAbortedMarker, "the model was told the turn was interrupted")
            }
        }

        @Test("Interrupt during a long-running command: the command is stopped and its tool_use closed")
        func longCommand() async throws {
            try await CodexTestbed.run { bed in
                let marker = "switchboard-long-\(UInt32.random(in: 0...UInt32.max))"
                bed.api.enqueue(.shell("echo started-\(marker); sleep 120; touch finished-\(marker)", callId: "call_long"),
                                .text("Stopped."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Run the long command")
                try await CodexTestbed.waitForMessage(session.client, after: mark) { $0.type == .toolUse && $0.toolId == "call_long" }
                try await CodexTestbed.poll(within: .seconds(30), "the command never ran") {
                    CodexTestbed.processes(containing: marker).contains { $0.commandLine.contains("sleep") }
                }
                let process = try #require(CodexTestbed.codexChildren().first)
                await manager.interrupt(session.id)
                try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(30))
                try await CodexTestbed.poll(within: .seconds(15), "the command still runs: \(CodexTestbed.processes(containing: marker))") {
                    CodexTestbed.processes(containing: marker).isEmpty
                }
                let during = Array(session.client.messages.dropFirst(mark))
                let closed = try #require(during.first { $0.type == .toolResult && $0.toolId == "call_long" })
                #expect(closed.extra["isError"] == .bool(true), "\(closed)")
                #expect(!FileManager.default.fileExists(atPath: bed.project + "/finished-\(marker)"))
                #expect(CodexTestbed.codexChildren().map(\.pid) == [process.pid], "the process stayed")

                let next = try await bed.turn(manager, session, "Go on")
                #expect(CodexTestbed.assistantText(next) == "Stopped.")
            }
        }

        @Test("A server that does not answer the interrupt is killed after the grace; the next turn resumes the thread")
        func escalation() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("Noted."), .slow(), .text("Resumed."))
                let manager = try bed.manager(settings: bed.settings(["interruptGraceSeconds": .number("0.5")]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Remember: 9")
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await CodexTestbed.waitForMessage(session.client, after: mark) { $0.type == .assistant }
                let process = try #require(CodexTestbed.codexChildren().first)
                // A stopped process reads no request: only the kill after the grace ends it.
                #expect(kill(process.pid, SIGSTOP) == 0)
                let started = ContinuousClock.now
                await manager.interrupt(session.id)
                let took = ContinuousClock.now - started
                try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(30))
                #expect(took >= .milliseconds(500), "the grace passed before the kill: \(took)")
                #expect(took < .seconds(20), "\(took)")
                #expect(CodexTestbed.codexChildren().isEmpty, "the killed process was reaped")
                try await CodexTestbed.expectGroupsGone([process.processGroup])
                let during = Array(session.client.messages.dropFirst(mark))
                #expect(!during.contains { $0.type == .error }, "\(during.map(\.content))")

                let next = try await bed.turn(manager, session, "Go on")
                #expect(CodexTestbed.assistantText(next) == "Resumed.")
                #expect(bed.api.requests.items.last?.userTexts.first == "Remember: 9", "the new process resumed the thread")
                #expect(CodexTestbed.codexChildren().map(\.pid) != [process.pid])
            }
        }

        @Test("Dispose escalates to SIGTERM and SIGKILL for a process that does not exit on stdin EOF")
        func disposeEscalation() async throws {
            try await CodexTestbed.run { bed in
                let manager = try bed.manager(settings: bed.settings(["shutdownGraceSeconds": .number("0.3")]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Hello")
                let process = try #require(CodexTestbed.codexChildren().first)
                #expect(kill(process.pid, SIGSTOP) == 0)
                let started = ContinuousClock.now
                await manager.dispose(session.id)
                let took = ContinuousClock.now - started
                #expect(took >= .milliseconds(600), "both grace periods passed: \(took)")
                #expect(took < .seconds(20), "\(took)")
                #expect(ProcessInspection.process(process.pid) == nil, "killed and reaped")
                try await CodexTestbed.expectGroupsGone([process.processGroup])
            }
        }
    }
}
