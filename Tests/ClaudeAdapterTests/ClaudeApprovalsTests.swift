import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension ClaudeCLITests {
    /// The real CLI's permission prompts (`--permission-prompt-tool=stdio`) through the
    /// session manager: a tool that writes a file asks (`echo` alone would be auto-allowed).
    @Suite("Approvals with the real claude")
    struct Approvals {
        static let touch = "touch made-by-tool"

        /// A manager with an approval policy (disposed by the testbed at the end).
        static func manager(_ bed: ClaudeTestbed, approvals: ApprovalPolicy = ApprovalPolicy()) throws -> SessionManager {
            try bed.manager(approvals: approvals)
        }

        static func fileExists(_ bed: ClaudeTestbed) -> Bool {
            FileManager.default.fileExists(atPath: bed.project + "/made-by-tool")
        }

        @Test("Two clients see the request; allowed, the file exists; both see the resolution; a late answer is refused")
        func allow() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("Made it."))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                let other = ClientRecorder()
                _ = await manager.connect(session.id, client: other.client)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                #expect(try await other.waitForDecisionRequest() == request)
                #expect(request.request.toolName == "Bash" && request.request.summary == Self.touch && request.request.subject == Self.touch)
                #expect(request.request.toolId == "toolu_mock_bash")
                #expect(request.request.options.first == "allow" && request.request.options.last == "deny")
                #expect(!Self.fileExists(bed), "the tool must wait for the decision")
                try await manager.answer(request.requestId, decision: "allow", from: "client-a")
                try await session.client.waitForTurnEnd(after: 0, within: ClaudeTestbed.turnTimeout)
                #expect(Self.fileExists(bed))
                let result = try #require(session.client.messages.first { $0.type == .toolResult })
                #expect(result.extra["isError"] == .bool(false))
                #expect(session.client.messages.contains { $0.type == .assistant && $0.content.contains("Made it.") })
                #expect(try await other.waitForResolution(of: request.requestId).source == .client("client-a"))
                do {
                    try await manager.answer(request.requestId, decision: "deny", from: "client-b")
                    Issue.record("a late answer was accepted")
                } catch let error as SessionError {
                    #expect(error.code == .alreadyResolved)
                }
                #expect(bed.api.requests.items.last?.toolResults.count == 1)
            }
        }

        @Test("allow_session passes the CLI's permission suggestions: the same command is not asked again")
        func allowForSession() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("First."), .bash(Self.touch, id: "toolu_mock_bash_2"), .text("Second."))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                #expect(request.request.options.contains("allow_session"), "\(request.request.options)")
                try await manager.answer(request.requestId, decision: "allow_session", from: "client-a")
                try await session.client.waitForStatus(.idle, within: ClaudeTestbed.turnTimeout)
                try FileManager.default.removeItem(atPath: bed.project + "/made-by-tool")
                try await bed.turn(manager, session, "Make it again")
                #expect(session.client.decisionRequests.count == 1, "the second run of the command was asked again")
                #expect(Self.fileExists(bed))
                // Only for this session: no settings file was written anywhere above the project.
                var directory = bed.project
                while directory != "/" {
                    #expect(!FileManager.default.fileExists(atPath: directory + "/.claude/settings.local.json"), "\(directory)")
                    directory = (directory as NSString).deletingLastPathComponent
                }
                // A new session in the same project is asked again.
                bed.api.enqueue(.bash(Self.touch, id: "toolu_mock_bash_3"), .text("Third."))
                let fresh = try await bed.open(manager)
                try await manager.send(fresh.id, text: "And in a new session")
                let asked = try await fresh.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                try await manager.answer(asked.requestId, decision: "deny", from: "client-a")
                try await fresh.client.waitForStatus(.idle, within: ClaudeTestbed.turnTimeout)
            }
        }

        @Test("Denied with a message: no file, the tool result is an error carrying the message, the turn goes on")
        func deny() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("Understood."))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                try await manager.answer(request.requestId, decision: "deny", message: "Not in this repository.", from: "client-a")
                try await session.client.waitForStatus(.idle, within: ClaudeTestbed.turnTimeout)
                #expect(!Self.fileExists(bed))
                let result = try #require(session.client.messages.first { $0.type == .toolResult })
                #expect(result.extra["isError"] == .bool(true))
                #expect(result.content.contains("Not in this repository."), "\(result.content)")
                #expect(bed.api.requests.items.last?.toolResults.first?.content.contains("Not in this repository.") == true)
            }
        }

        @Test("A rule allows without asking, and the audit log says which rule")
        func rule() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("Done."))
                let manager = try Self.manager(bed, approvals: ApprovalPolicy(rules: [.init(agent: "claude", tool: "Bash", input: "touch *", decision: .allow)]))
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Make the file")
                #expect(Self.fileExists(bed))
                #expect(session.client.decisionRequests.isEmpty)
                let log = await bed.store.decisions(DecisionQuery(sessionId: session.id))
                #expect(log.count == 1 && log.first?.decidedBy == "rule" && log.first?.decider == "rule #1" && log.first?.decision == "allow")
            }
        }

        @Test("Interrupt while a request is pending: closed by interrupt, no file, the next turn works")
        func interruptWhilePending() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch))
                bed.api.setDefaultReply(.text("Back."))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                await manager.interrupt(session.id)
                #expect(try await session.client.waitForResolution(of: request.requestId).source == .interrupt)
                try await session.client.waitForStatus(.interrupted, within: ClaudeTestbed.turnTimeout)
                #expect(!Self.fileExists(bed))
                let next = try await bed.turn(manager, session, "Hello again")
                #expect(next.contains { $0.type == .assistant && $0.content.contains("Back.") })
            }
        }

        @Test("Nobody answers: the timeout denies and the agent is told why")
        func timeout() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("Gave up."))
                let manager = try Self.manager(bed, approvals: ApprovalPolicy(timeout: .seconds(1)))
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                let resolved = try await session.client.waitForResolution(of: request.requestId)
                #expect(resolved.source == .timeout && resolved.decision == "deny")
                try await session.client.waitForStatus(.idle, within: ClaudeTestbed.turnTimeout)
                #expect(!Self.fileExists(bed))
                #expect(session.client.messages.first { $0.type == .toolResult }?.content.contains("Nobody decided within") == true)
            }
        }

        @Test("A client that reconnects while a request is pending gets it in its replay; dispose expires it")
        func reconnectAndDispose() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("never"))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Make the file")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                let back = ClientRecorder()
                _ = await manager.connect(session.id, client: back.client, resumeFrom: 0)
                #expect(try await back.waitForDecisionRequest() == request)
                await manager.dispose(session.id)
                #expect(await bed.store.decision(request.requestId)?.state == .expired)
                #expect(!Self.fileExists(bed))
            }
        }

        @Test("AskUserQuestion arrives as a question; the answer reaches the model")
        func question() async throws {
            try await ClaudeTestbed.run { bed in
                let input = try JSONValue(parsing: #"{"questions":[{"question":"Which color?","header":"Color","options":[{"label":"Red","description":"warm"},{"label":"Blue","description":"cool"}],"multiSelect":false}]}"#)
                bed.api.enqueue(.toolUse(name: "AskUserQuestion", input: input, id: "toolu_ask"), .text("Blue it is."))
                let manager = try Self.manager(bed)
                let session = try await bed.open(manager)
                try await manager.send(session.id, text: "Ask me a color")
                let request = try await session.client.waitForDecisionRequest(within: ClaudeTestbed.turnTimeout)
                #expect(request.request.kind == .question && request.request.questions.first?.options.map(\.label) == ["Red", "Blue"])
                try await manager.answer(request.requestId, decision: nil, answers: ["Which color?": "Blue"], from: "client-a")
                try await session.client.waitForStatus(.idle, within: ClaudeTestbed.turnTimeout)
                let result = try #require(bed.api.requests.items.last?.toolResults.first)
                #expect(result.content.contains(#""Which color?"="Blue""#), "\(result.content)")
            }
        }

        @Test("Through the daemon: two WebSocket clients, the HTTP inbox, and a daemon stopped while a request waits")
        func throughTheDaemon() async throws {
            try await ClaudeTestbed.run { bed in
                bed.api.enqueue(.bash(Self.touch), .text("Made it."), .bash("touch second-file", id: "toolu_mock_bash_2"), .text("Okay."),
                                .bash("touch third-file", id: "toolu_mock_bash_3"))
                let agents = #"{"claude": {"plugin": "libClaudeAdapter.so", "settings": \#(bed.settings().jsonText)}}"#
                let dir = try TemporaryDirectory(prefix: "switchboard-claude-daemon")
                defer { dir.remove() }
                let daemon = try await LiveDaemon(agents: agents, in: dir)
                let a = try await daemon.socket("@host")
                a.send(["type": .string("connect"), "projectPath": .string(bed.project), "model": .string(ClaudeTestbed.model)])
                let id = try #require(try await a.waitFor(type: "session_started")["sessionId"]?.stringValue)
                let b = try await daemon.socket("@host")
                b.send(["type": .string("connect"), "sessionId": .string(id)])
                try await b.waitFor(type: "session_joined")

                // Allowed from one client; both see it; the other's late answer is refused.
                a.send(["type": .string("message"), "content": .string("Make the file")])
                let request = try await a.waitFor(type: "permission_request", within: ClaudeTestbed.turnTimeout)
                #expect(try await b.waitFor(type: "permission_request") == request)
                let requestId = try #require(request["requestId"]?.stringValue)
                a.send(["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string("allow")])
                for socket in [a, b] { #expect(try await socket.waitFor(type: "permission_resolved")["decision"] == .string("allow")) }
                try await a.waitForStatus("idle")
                #expect(Self.fileExists(bed))
                b.send(["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string("deny")])
                #expect(try await b.waitFor { $0["requestId"] == .string(requestId) && $0["type"] == .string("error") }["code"] == .string("already_resolved"))

                // The HTTP inbox lists the next request and denies it.
                let mark = a.frames.items.count
                a.send(["type": .string("message"), "content": .string("Another file")])
                let second = try await a.waitFor(type: "permission_request", after: mark, within: ClaudeTestbed.turnTimeout)
                let inbox = try await daemon.http(.GET, "/v1/requests").body.arrayValue ?? []
                #expect(inbox.map { $0["requestId"] } == [second["requestId"]])
                let answered = try await daemon.http(.POST, "/v1/requests/\(second["requestId"]?.stringValue ?? "")", body: #"{"decision":"deny","message":"One is enough."}"#)
                #expect(answered.status == 200)
                try await a.waitForStatus("idle", after: mark)
                #expect(!FileManager.default.fileExists(atPath: bed.project + "/second-file"))

                // Stopped while a request waits: the audit log says expired; no claude is left.
                let third = a.frames.items.count
                a.send(["type": .string("message"), "content": .string("A third")])
                let pending = try #require(try await a.waitFor(type: "permission_request", after: third, within: ClaudeTestbed.turnTimeout)["requestId"]?.stringValue)
                #expect(try await daemon.stop() == 0)
                await a.close()
                await b.close()
                let next = try await LiveDaemon(agents: agents, in: dir)
                let row = try await next.http(.GET, "/v1/requests/\(pending)").body
                #expect(row["state"] == .string("expired") && row["by"] == .string("dispose"))
                let log = try await next.http(.GET, "/v1/requests?state=all").body.arrayValue ?? []
                #expect(log.compactMap { $0["decision"]?.stringValue } == ["cancelled", "deny", "allow"])
                #expect(try await next.stop() == 0)
            }
        }
    }
}
