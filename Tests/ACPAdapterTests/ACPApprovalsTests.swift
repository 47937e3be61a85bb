import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension FastAgentTests {
    /// fast-agent's permission requests through the approvals pipeline, and the client side
    /// (terminals, files) they lead to.
    @Suite("Approvals and the client side")
    struct Approvals {
        static let command = "touch shell_marker && echo shell-ok"

        static func exists(_ bed: ACPTestbed, _ name: String) -> Bool {
            FileManager.default.fileExists(atPath: bed.project + "/" + name)
        }

        @Test("A shell call asks; allowed, the command runs in a client terminal and its output is the tool result; denied, nothing runs")
        func shellAllowedAndDenied() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.shell(Self.command), then: .echoToolResult, whenPromptContains: "RUN_SHELL")
                let manager = try bed.manager()
                let session = try await bed.open(manager)

                // Allowed.
                var mark = session.client.received.count
                try await manager.send(session.id, text: "RUN_SHELL now")
                let request = try await session.client.waitForDecisionRequest(after: mark, within: ACPTestbed.turnTimeout)
                #expect(request.request.toolName == "execute", "\(request.request)")
                #expect(request.request.subject == Self.command)
                #expect(request.request.summary == Self.command)
                #expect(request.request.options == ["allow", "allow_session", "deny"])
                #expect(request.request.id.hasPrefix("acp-1-"))
                #expect(request.agentType == "fast")
                // The tool call is shown, with its input, before the question.
                let toolId = try #require(request.request.toolId)
                #expect(session.client.messages.contains { $0.type == .toolUse && $0.toolId == toolId && $0.toolName == "execute" && $0.content.contains("touch shell_marker") })
                #expect(!Self.exists(bed, "shell_marker"), "the command must wait for the decision")
                try await manager.answer(request.requestId, decision: "allow", from: "client-a")
                try await ACPTestbed.waitForTurnEnd(session.client, after: mark)
                var turn = Array(session.client.messages.dropFirst(mark))
                #expect(Self.exists(bed, "shell_marker"))
                // The client ran it: a terminal's tool activity, then the agent's tool result.
                let terminal = try #require(turn.first { $0.type == .toolUse && $0.toolName == "terminal" }, "\(ACPTestbed.describe(turn))")
                #expect(terminal.extra["clientSide"] == .bool(true) && terminal.content.contains("touch shell_marker"))
                let terminalResult = try #require(turn.first { $0.type == .toolResult && $0.toolId == terminal.toolId })
                #expect(terminalResult.content == "shell-ok\n" && terminalResult.extra["exitCode"] == .int(0), "\(terminalResult)")
                let result = try #require(turn.first { $0.type == .toolResult && $0.toolId == toolId })
                #expect(result.extra["isError"] == .bool(false) && result.content.contains("shell-ok"), "\(result)")
                #expect(ACPTestbed.assistantText(turn).hasPrefix("Tool said: shell-ok"), "\(ACPTestbed.describe(turn))")
                #expect(bed.api.requests.items.last?.toolResults.last?.contains("shell-ok") == true)
                #expect(session.client.resolutions.last?.decision == "allow")

                // Denied.
                try FileManager.default.removeItem(atPath: bed.project + "/shell_marker")
                mark = session.client.received.count
                try await manager.send(session.id, text: "RUN_SHELL again")
                let second = try await session.client.waitForDecisionRequest(after: mark, within: ACPTestbed.turnTimeout)
                try await manager.answer(second.requestId, decision: "deny", message: "Not now.", from: "client-a")
                try await ACPTestbed.waitForTurnEnd(session.client, after: mark)
                turn = Array(session.client.messages.dropFirst(mark))
                #expect(session.client.notices.last == .status(.idle))
                #expect(!Self.exists(bed, "shell_marker"))
                #expect(!turn.contains { $0.toolName == "terminal" }, "no command ran: \(ACPTestbed.describe(turn))")
                let refused = try #require(turn.first { $0.type == .toolResult && $0.toolId == second.request.toolId })
                #expect(refused.extra["isError"] == .bool(true), "\(refused)")
            }
        }

        @Test("A file write goes through fs/write_text_file into the project; one aimed outside is refused")
        func fileWrites() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.writeFile("notes/written.txt", content: "written by mock\n"), then: .echoToolResult, whenPromptContains: "WRITE_INSIDE")
                let outside = bed.home.path + "/outside.txt"
                bed.api.reply(.writeFile("../outside.txt", content: "escaped\n"), then: .echoToolResult, whenPromptContains: "WRITE_UP")
                bed.api.reply(.writeFile(outside, content: "escaped\n"), then: .echoToolResult, whenPromptContains: "WRITE_ABSOLUTE")
                // A rule allows the writes, so nobody is asked; the rule matches the absolute path.
                let rules = ApprovalPolicy(rules: [.init(agent: "fast", tool: "edit", decision: .allow)])
                let manager = try bed.manager(approvals: rules)
                let session = try await bed.open(manager)

                let inside = try await bed.turn(manager, session, "WRITE_INSIDE please")
                let written = try String(contentsOfFile: bed.project + "/notes/written.txt", encoding: .utf8)
                #expect(written == "written by mock\n")
                let write = try #require(inside.first { $0.type == .toolUse && $0.toolName == "fs/write_text_file" }, "\(ACPTestbed.describe(inside))")
                #expect(write.extra["clientSide"] == .bool(true))
                let wrote = try #require(inside.first { $0.type == .toolResult && $0.toolId == write.toolId })
                #expect(wrote.extra["isError"] == .bool(false) && wrote.content.contains("Wrote 16 bytes"), "\(wrote)")
                // The agent's own tool call shows the diff.
                #expect(inside.contains { $0.type == .toolResult && $0.extra["diff"] != nil && $0.content.contains("notes/written.txt") }, "\(ACPTestbed.describe(inside))")
                #expect(session.client.resolutions.first?.source == .rule(1))

                for prompt in ["WRITE_UP please", "WRITE_ABSOLUTE please"] {
                    let turn = try await bed.turn(manager, session, prompt)
                    #expect(!FileManager.default.fileExists(atPath: outside), "\(prompt) wrote outside the project")
                    let refusal = try #require(turn.first { $0.type == .toolResult && $0.extra["clientSide"] == .bool(true) && $0.extra["isError"] == .bool(true) },
                                               "\(prompt): \(ACPTestbed.describe(turn))")
                    #expect(refusal.content.contains("outside the session's project directory"), "\(refusal.content)")
                }
            }
        }

        @Test("Interrupt while a permission request waits: it is withdrawn, the agent gets 'cancelled', nothing runs, the next turn works")
        func interruptWhilePending() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.shell("touch pending_marker"), then: .echoToolResult, whenPromptContains: "RUN_PENDING")
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let mark = session.client.received.count
                try await manager.send(session.id, text: "RUN_PENDING now")
                let request = try await session.client.waitForDecisionRequest(after: mark, within: ACPTestbed.turnTimeout)
                await manager.interrupt(session.id)
                #expect(try await session.client.waitForResolution(of: request.requestId).source == .interrupt)
                try await session.client.waitForStatus(.interrupted, after: mark, within: ACPTestbed.turnTimeout)
                #expect(!Self.exists(bed, "pending_marker"))
                let next = try await bed.turn(manager, session, "Carry on")
                #expect(ACPTestbed.assistantText(next) == "OK", "\(ACPTestbed.describe(next))")
                #expect(!Self.exists(bed, "pending_marker"))
            }
        }
    }
}
