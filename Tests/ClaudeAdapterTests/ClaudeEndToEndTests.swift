import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension ClaudeCLITests {
    /// Whole turns through the session manager, `dlopen` of `libClaudeAdapter.so`, the real
    /// `claude` binary and the mock model API.
    @Suite("Turns, tools, resume, interrupt, model change")
    struct EndToEnd {
        static func assistantText(_ messages: [ChatMessage]) -> String {
            messages.filter { $0.type == .assistant }.map(\.content).joined()
        }

        @Test("A text turn streams its deltas in order under one messageId and ends with done")
        func textTurn() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.text("Hel", "lo ", "from ", "the ", "mock"))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Say hello")

                let assistant = messages.filter { $0.type == .assistant }
                #expect(assistant.map(\.content) == ["Hel", "lo ", "from ", "the ", "mock"], "each delta once, in order")
                #expect(Set(assistant.map(\.messageId)) == ["msg_mock_1"])
                let done = try #require(messages.last { $0.type == .done })
                #expect(done.content == "Response complete")
                #expect(done.extra["costUsd"]?.doubleValue != nil)
                #expect(done.extra["usage"]?["outputTokens"]?.intValue == 5)
                let doneIndex = try #require(messages.firstIndex { $0.type == .done })
                #expect(messages.lastIndex { $0.type == .assistant }! < doneIndex)
                #expect(!messages.contains { $0.type == .error })

                // The agent session id was captured, announced and linked in the store.
                let agentId = try #require(await manager.info(session.id)?.agentSessionId)
                #expect(agentId.count == 36, "\(agentId)")
                #expect(messages.contains { $0.type == .system && $0.content == "Session started: \(agentId.prefix(8))..." })
                #expect(await bed.store.get(session.id)?.agentSessionId == agentId)

                let request = try #require(bed.api.requests.items.first)
                #expect(request.model == ClaudeTestbed.model)
                #expect(request.isStreaming)
                #expect(request.userTexts == ["Say hello"])
            }
        }

        @Test("A tool turn: tool_use, the real command's output in tool_result, then the final text")
        func toolTurn() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash("echo switchboard-$((6*7))"), .text("The command printed 42."))
                let manager = try bed.manager(settings: bed.settings([
                    "dangerouslySkipPermissions": .bool(true), "isSandbox": .bool(true),
                ]))
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Run the command")

                let use = try #require(messages.first { $0.type == .toolUse })
                #expect(use.toolName == "Bash" && use.toolId == "toolu_mock_bash")
                #expect(try JSONValue(parsing: use.content)["command"] == .string("echo switchboard-$((6*7))"))
                #expect(use.content.contains("\n  \"command\""), "pretty JSON: \(use.content)")
                let result = try #require(messages.first { $0.type == .toolResult })
                #expect(result.toolId == "toolu_mock_bash")
                #expect(result.content == "switchboard-42")
                #expect(result.extra["isError"] == .bool(false))
                #expect(Self.assistantText(messages) == "The command printed 42.")
                let order = [ChatMessage.Kind.toolUse, .toolResult, .assistant, .done].map { kind in messages.firstIndex { $0.type == kind }! }
                #expect(order == order.sorted(), "\(messages.map(\.type))")

                // The CLI sent the real output back to the model.
                let requests = bed.api.requests.items
                #expect(requests.count == 2)
                #expect(requests.last?.toolResults.map(\.content) == ["switchboard-42"])
            }
        }

        @Test("A second turn reuses the process, and the API sees the whole history")
        func secondTurn() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.text("First ", "answer."), .text("Second ", "answer."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "First question")
                let first = ClaudeTestbed.claudeChildren()
                #expect(first.count == 1, "\(first)")
                let messages = try await bed.turn(manager, session, "Second question")
                #expect(Self.assistantText(messages) == "Second answer.")
                #expect(ClaudeTestbed.claudeChildren().map(\.pid) == first.map(\.pid), "the same process served both turns")
                #expect(!messages.contains { $0.type == .system && $0.content.hasPrefix("Session started") }, "no new process")

                let last = try #require(bed.api.requests.items.last)
                #expect(last.userTexts == ["First question", "Second question"])
                #expect(last.assistantTexts == ["First answer."])
            }
        }

        @Test("Dispose, a new manager on the same store finds the session by the agent's id and resumes it")
        func resumeAfterDispose() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.text("Remembered: ", "blue."), .text("You said blue."))
                let first = try bed.manager()
                let session = try await bed.open(first)
                try await bed.turn(first, session, "My favourite colour is blue")
                let agentId = try #require(await first.info(session.id)?.agentSessionId)
                await first.dispose(session.id)
                #expect(ClaudeTestbed.claudeChildren().isEmpty, "dispose reaped the process")

                let second = try bed.manager()
                let found = try #require(try await second.find(agentId))
                #expect(found.id == session.id && found.agentSessionId == agentId)
                let client = ClientRecorder()
                // Only what comes now: the restored session's ring holds the first turn too.
                _ = await second.connect(found.id, client: client.client, resumeFrom: await second.messages(found.id).last?.seq)
                let turn = Task { try await bed.turn(second, (found.id, client), "What is my favourite colour?") }
                try await client.waitForMessage(after: 0) { $0.type == .assistant }
                let process = try #require(ClaudeTestbed.claudeChildren().first)
                #expect(ClaudeTestbed.commandLine(process.pid).contains("--resume=\(agentId)"))
                let messages = try await turn.value
                #expect(Self.assistantText(messages) == "You said blue.")

                let last = try #require(bed.api.requests.items.last)
                #expect(last.userTexts == ["My favourite colour is blue", "What is my favourite colour?"])
                #expect(last.assistantTexts == ["Remembered: blue."])
                #expect(await second.info(found.id)?.agentSessionId == agentId)
            }
        }

        @Test("Interrupt mid-stream: the turn ends interrupted, the process stays, and the next turn works")
        func interruptMidStream() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.slow(), .text("After ", "the interrupt."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await session.client.waitForMessage(after: mark) { $0.type == .assistant }
                let process = try #require(ClaudeTestbed.claudeChildren().first)
                await manager.interrupt(session.id)
                try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(30))
                #expect(await manager.status(session.id) == .interrupted)
                let stream = try await bed.api.streams.wait(within: .seconds(30)) { !$0.isEmpty }.first
                #expect(stream?.aborted == true, "the CLI cut the API stream")
                #expect((stream?.deltasWritten ?? 0) < 600)
                let during = Array(session.client.messages.dropFirst(mark))
                #expect(!during.contains { $0.type == .error }, "\(during)")

                let next = try await bed.turn(manager, session, "Go on")
                #expect(Self.assistantText(next) == "After the interrupt.")
                #expect(ClaudeTestbed.claudeChildren().map(\.pid) == [process.pid], "the process stayed")
            }
        }

        @Test("An interrupt the CLI cannot answer escalates to signals; the turn ends interrupted and the next one resumes")
        func interruptEscalation() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.text("Noted."), .slow(), .text("Resumed."))
                let manager = try bed.manager(settings: bed.settings(["interruptGraceSeconds": .number("0.3")]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Remember: 9")
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await session.client.waitForMessage(after: mark) { $0.type == .assistant }
                let process = try #require(ClaudeTestbed.claudeChildren().first)
                // A stopped process reads no control request, and SIGINT and SIGTERM stay
                // pending; only the last step, SIGKILL, ends it.
                #expect(kill(process.pid, SIGSTOP) == 0)
                let started = ContinuousClock.now
                await manager.interrupt(session.id)
                let took = ContinuousClock.now - started
                try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(30))
                #expect(took >= .milliseconds(900), "three grace periods passed before SIGKILL: \(took)")
                #expect(took < .seconds(20), "\(took)")
                #expect(ClaudeTestbed.claudeChildren().isEmpty, "the killed process was reaped")
                let during = Array(session.client.messages.dropFirst(mark))
                #expect(!during.contains { $0.type == .error }, "\(during.map(\.content))")

                let next = try await bed.turn(manager, session, "Go on")
                #expect(Self.assistantText(next) == "Resumed.")
                #expect(bed.api.requests.items.last?.userTexts.first == "Remember: 9", "the new process resumed the session")
            }
        }

        @Test("Dispose escalates to SIGTERM and SIGKILL for a process that does not exit on stdin EOF")
        func disposeEscalation() async throws {
            try await ClaudeTestbed.run { bed in
                let manager = try bed.manager(settings: bed.settings(["shutdownGraceSeconds": .number("0.3")]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Hello")
                let process = try #require(ClaudeTestbed.claudeChildren().first)
                #expect(kill(process.pid, SIGSTOP) == 0)
                let started = ContinuousClock.now
                await manager.dispose(session.id)
                let took = ContinuousClock.now - started
                #expect(took >= .milliseconds(600), "both grace periods passed: \(took)")
                #expect(took < .seconds(20), "\(took)")
                #expect(ProcessInspection.process(process.pid) == nil, "killed and reaped")
                // A zombie (a grandchild already dead, waiting for init to reap it) is no process left running.
                #expect(ProcessInspection.members(ofGroup: process.processGroup).filter { $0.state != "Z" }.isEmpty)
            }
        }

        @Test("A model change applies to the next turn, which resumes the conversation")
        func modelChange() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.text("Small answer."), .text("Large answer."))
                let manager = try bed.manager()
                let session = try await bed.open(manager, model: "claude-small-1")
                try await bed.turn(manager, session, "Question one")
                try await manager.setModel(session.id, model: "claude-large-2")
                let messages = try await bed.turn(manager, session, "Question two")
                #expect(Self.assistantText(messages) == "Large answer.")

                let requests = bed.api.requests.items
                #expect(requests.map(\.model) == ["claude-small-1", "claude-large-2"])
                #expect(requests.last?.userTexts == ["Question one", "Question two"])
                #expect(requests.last?.assistantTexts == ["Small answer."])
                #expect(await bed.store.get(session.id)?.model == "claude-large-2")
            }
        }
    }
}
