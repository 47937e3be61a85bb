import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension CodexCLITests {
    /// Codex's approval requests through the session manager, against the real `codex`:
    /// under `untrusted` a command that writes asks.
    @Suite("Approvals with the real codex")
    struct Approvals {
        static let touch = "touch made-by-tool"

        static func fileExists(_ bed: CodexTestbed) -> Bool {
            FileManager.default.fileExists(atPath: bed.project + "/made-by-tool")
        }

        static func asking(_ bed: CodexTestbed) throws -> SessionManager {
            try bed.manager(settings: bed.settings(["approvalPolicy": .string("untrusted")]))
        }

        @Test("The request shows the command; allowed, the command runs; the tool call and the request share a toolId")
        func allow() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.shell(Self.touch, callId: "call_touch"), .text("Made it."))
                let manager = try Self.asking(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make a file")
                let request = try await session.client.waitForDecisionRequest(within: CodexTestbed.turnTimeout)
                #expect(request.request.toolName == "Bash" && request.request.toolId == "call_touch")
                #expect(request.request.summary.contains(Self.touch) && request.request.subject?.contains(Self.touch) == true)
                #expect(request.request.options.first == "allow" && request.request.options.last == "deny")
                #expect(request.request.id.hasPrefix("codex-1-"))
                #expect(session.client.messages.contains { $0.type == .toolUse && $0.toolId == "call_touch" })
                #expect(!Self.fileExists(bed), "the command must wait for the decision")
                try await manager.answer(request.requestId, decision: "allow", from: "client-a")
                try await session.client.waitForStatus(.idle, within: CodexTestbed.turnTimeout)
                #expect(Self.fileExists(bed))
                let result = try #require(session.client.messages.first { $0.type == .toolResult && $0.toolId == "call_touch" })
                #expect(result.extra["isError"] == .bool(false), "\(result)")
                #expect(CodexTestbed.assistantText(session.client.messages) == "Made it.")
                #expect(session.client.resolutions.first?.decision == "allow")
            }
        }

        @Test("Denied: the command is declined, no file, the model is told and the turn goes on")
        func deny() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.shell(Self.touch, callId: "call_touch"), .text("It was refused."))
                let manager = try Self.asking(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make a file")
                let request = try await session.client.waitForDecisionRequest(within: CodexTestbed.turnTimeout)
                try await manager.answer(request.requestId, decision: "deny", message: "Not now.", from: "client-a")
                try await session.client.waitForStatus(.idle, within: CodexTestbed.turnTimeout)
                #expect(!Self.fileExists(bed))
                let result = try #require(session.client.messages.first { $0.type == .toolResult && $0.toolId == "call_touch" })
                #expect(result.extra["isError"] == .bool(true) && result.extra["status"] == .string("declined"), "\(result)")
                #expect(CodexTestbed.assistantText(session.client.messages) == "It was refused.")
                #expect(bed.api.requests.items.count == 2)
            }
        }

        @Test("A rule allows without asking; interrupt while a request waits closes it and the next turn works")
        func ruleAndInterrupt() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.shell(Self.touch, callId: "call_rule"), .text("Ruled."), .shell("touch second-file", callId: "call_second"))
                let manager = try bed.manager(settings: bed.settings(["approvalPolicy": .string("untrusted")]),
                                              approvals: ApprovalPolicy(rules: [.init(agent: "codex", tool: "Bash", input: "*touch made-by-tool*", decision: .allow)]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Make a file")
                #expect(Self.fileExists(bed) && session.client.decisionRequests.isEmpty)
                #expect(session.client.resolutions.first?.source == .rule(1))

                let mark = session.client.received.count
                try await manager.send(session.id, text: "Make another")
                let request = try await session.client.waitForDecisionRequest(after: mark, within: CodexTestbed.turnTimeout)
                await manager.interrupt(session.id)
                #expect(try await session.client.waitForResolution(of: request.requestId).source == .interrupt)
                try await session.client.waitForStatus(.interrupted, after: mark, within: CodexTestbed.turnTimeout)
                #expect(!FileManager.default.fileExists(atPath: bed.project + "/second-file"))
                bed.api.enqueue(.text("Still here."))
                let next = try await bed.turn(manager, session, "Hello again")
                #expect(CodexTestbed.assistantText(next) == "Still here.")
            }
        }
    }
}
