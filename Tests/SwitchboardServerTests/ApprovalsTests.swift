import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// Decision requests through the real daemon: WebSocket frames, the HTTP inbox, the audit
/// log across restarts. The scripted plugin asks, through dlopen.
@Suite("Approvals over WebSocket and HTTP", .serialized, .childProcessGate)
struct ApprovalsTests {
    /// A turn that asks to run `touch notes.txt`, then reports the decision as a tool result.
    static let asking = #"[{"messages":[{"ask":{"toolName":"Bash","toolId":"t1","input":{"command":"touch notes.txt"},"options":["allow","allow_session","deny"]}}]}]"#

    static func agents(_ turns: String = asking) -> String { LiveChatTests.scripted(turns) }

    /// Opens a socket on `w` and connects it to `session` (a new session when `nil`).
    static func attach(_ daemon: LiveDaemon, _ session: String? = nil) async throws -> (LiveSocket, String) {
        let socket = try await daemon.socket("w")
        var connect: [String: JSONValue] = ["type": .string("connect")]
        if let session { connect["sessionId"] = .string(session) }
        socket.send(connect)
        let joined = try await socket.waitFor { $0["type"] == .string("session_started") || $0["type"] == .string("session_joined") }
        return (socket, joined["sessionId"]?.stringValue ?? "")
    }

    @Test("Both clients see the request; one allows; both see the resolution; the other's late answer is refused")
    func twoClients() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents())
        let (a, id) = try await Self.attach(daemon)
        let (b, _) = try await Self.attach(daemon, id)
        a.send(["type": .string("message"), "content": .string("make a file")])
        let request = try await a.waitFor(type: "permission_request")
        let seenByB = try await b.waitFor(type: "permission_request")
        #expect(request == seenByB)
        let requestId = try #require(request["requestId"]?.stringValue)
        #expect(request["toolName"] == .string("Bash") && request["toolId"] == .string("t1") && request["content"] == .string("touch notes.txt"))
        #expect(request["options"] == .array([.string("allow"), .string("allow_session"), .string("deny")]))
        #expect(request["input"] == .object(["command": .string("touch notes.txt")]))
        #expect(request["sessionId"] == .string(id) && request["seq"]?.intValue != nil && request["expiresAt"]?.stringValue != nil)

        a.send(["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string("allow")])
        for socket in [a, b] {
            let resolved = try await socket.waitFor(type: "permission_resolved")
            #expect(resolved["requestId"] == .string(requestId) && resolved["decision"] == .string("allow"))
            #expect(resolved["by"] == .string("client") && resolved["decider"]?.stringValue?.hasPrefix("client-") == true)
            try await socket.waitForStatus("idle")
        }
        #expect(a.frames(ofType: "tool_result").first?["content"] == .string("allow"))
        b.send(["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string("deny")])
        let refusal = try await b.waitFor { $0["type"] == .string("error") && $0["requestId"] == .string(requestId) }
        #expect(refusal["code"] == .string("already_resolved"))
        #expect(refusal["content"]?.stringValue?.contains("was already resolved (allow by client-") == true, "\(refusal)")
        #expect(a.frames(ofType: "permission_resolved").count == 1 && b.frames(ofType: "permission_resolved").count == 1)

        // Bad answers: each an error frame naming the problem; nothing changes.
        b.send(["type": .string("permission_response"), "decision": .string("allow")])
        try await b.waitFor { $0["content"]?.stringValue == "A response needs the 'requestId' of the request it answers." }
        b.send(["type": .string("permission_response"), "requestId": .string("req-nope"), "decision": .string("allow")])
        let unknown = try await b.waitFor { $0["requestId"] == .string("req-nope") }
        #expect(unknown["code"] == .string("not_found"))
        b.send(["type": .string("permission_response"), "requestId": .string("bad id\n"), "decision": .string("allow")])
        try await b.waitFor { $0["content"]?.stringValue?.hasPrefix("The request id 'bad id\\n' is not valid") == true }
        await a.close()
        await b.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("The HTTP inbox lists a pending request and answers it; 409, 404 and 400 as documented")
    func httpInbox() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents())
        let (socket, id) = try await Self.attach(daemon)
        #expect(try await daemon.http(.GET, "/v1/requests").body == .array([]))
        socket.send(["type": .string("message"), "content": .string("go")])
        let request = try await socket.waitFor(type: "permission_request")
        let requestId = try #require(request["requestId"]?.stringValue)

        let inbox = try await daemon.http(.GET, "/v1/requests")
        #expect(inbox.status == 200)
        let rows = inbox.body.arrayValue ?? []
        #expect(rows.count == 1 && rows.first?["requestId"] == .string(requestId) && rows.first?["state"] == .string("pending"))
        #expect(try await daemon.http(.GET, "/v1/requests?session=\(id)").body.arrayValue?.count == 1)
        #expect(try await daemon.http(.GET, "/v1/requests?session=other").body.arrayValue?.count == 0)
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)").body["pendingRequests"] == .int(1))
        #expect(try await daemon.http(.GET, "/v1/requests/\(requestId)").body["state"] == .string("pending"))

        let bad = try await daemon.http(.POST, "/v1/requests/\(requestId)", body: #"{"decision":"maybe"}"#)
        #expect(bad.status == 400 && bad.body["error"]?["code"] == .string("invalid_decision"))
        let answered = try await daemon.http(.POST, "/v1/requests/\(requestId)", body: #"{"decision":"deny","message":"Not now."}"#)
        #expect(answered.status == 200)
        #expect(answered.body["decision"] == .string("deny") && answered.body["by"] == .string("client") && answered.body["decider"] == .string("http"))
        let resolved = try await socket.waitFor(type: "permission_resolved")
        #expect(resolved["message"] == .string("Not now.") && resolved["decider"] == .string("http"))
        try await socket.waitForStatus("idle")
        #expect(socket.frames(ofType: "tool_result").first?["content"] == .string("deny: Not now."))

        let again = try await daemon.http(.POST, "/v1/requests/\(requestId)", body: #"{"decision":"allow"}"#)
        #expect(again.status == 409 && again.body["error"]?["code"] == .string("already_resolved"))
        let missing = try await daemon.http(.POST, "/v1/requests/req-0-none", body: #"{"decision":"allow"}"#)
        #expect(missing.status == 404 && missing.body["error"]?["code"] == .string("not_found"))
        #expect(try await daemon.http(.GET, "/v1/requests/req-0-none").status == 404)
        #expect(try await daemon.http(.POST, "/v1/requests/%20x", body: "{}").status == 400)
        for query in ["state=bogus", "limit=0", "limit=5001", "limit=1.5", "session=a%0Ab"] {
            let refused = try await daemon.http(.GET, "/v1/requests?\(query)")
            #expect(refused.status == 400, "\(query): \(refused.body)")
        }
        let log = try await daemon.http(.GET, "/v1/requests?state=all").body.arrayValue ?? []
        #expect(log.count == 1)
        #expect(log.first?["state"] == .string("resolved") && log.first?["decision"] == .string("deny") && log.first?["message"] == .string("Not now."))
        #expect(log.first?["input"] == .object(["command": .string("touch notes.txt")]))
        #expect(try await daemon.http(.GET, "/v1/requests?state=resolved&limit=1").body.arrayValue?.count == 1)
        #expect(try await daemon.http(.GET, "/v1/requests", token: .some(nil)).status == 401)
        await socket.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("A rule decides without asking; the audit log says which rule")
    func ruleDecides() async throws {
        let approvals = #", "approvals": {"rules": [{"tool": "Bash", "input": "touch *", "decision": "allow"}]}"#
        let daemon = try await LiveDaemon(agents: Self.agents(), extraConfig: approvals)
        let (socket, _) = try await Self.attach(daemon)
        socket.send(["type": .string("message"), "content": .string("go")])
        let resolved = try await socket.waitFor(type: "permission_resolved")
        #expect(resolved["by"] == .string("rule") && resolved["decider"] == .string("rule #1") && resolved["content"] == .string("touch notes.txt"))
        try await socket.waitForStatus("idle")
        #expect(socket.frames(ofType: "permission_request").isEmpty)
        let log = try await daemon.http(.GET, "/v1/requests?state=all").body.arrayValue ?? []
        #expect(log.first?["by"] == .string("rule") && log.first?["decider"] == .string("rule #1"))
        await socket.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("A question is answered with the one-answer shorthand")
    func question() async throws {
        let turns = #"[{"messages":[{"ask":{"kind":"question","toolName":"AskUserQuestion","summary":"Which color?","questions":[{"question":"Which color?","options":[{"label":"Red"},{"label":"Blue"}]}]}}]}]"#
        let daemon = try await LiveDaemon(agents: Self.agents(turns))
        let (socket, _) = try await Self.attach(daemon)
        socket.send(["type": .string("message"), "content": .string("ask")])
        let question = try await socket.waitFor(type: "question")
        #expect(question["options"] == .array([.string("answer"), .string("deny")]))
        #expect(question["questions"]?.arrayValue?.first?["options"]?.arrayValue?.count == 2)
        socket.send(["type": .string("question_response"), "requestId": question["requestId"]!, "answer": .string("Blue")])
        let resolved = try await socket.waitFor(type: "question_resolved")
        #expect(resolved["answers"] == .object(["Which color?": .string("Blue")]) && resolved["decision"] == .string("answer"))
        try await socket.waitForStatus("idle")
        await socket.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("Requests pending when the daemon stops are expired in the audit log, by dispose or, after a crash, by restart")
    func expiredAcrossRestarts() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-approvals")
        defer { dir.remove() }
        for (stop, by) in [("SIGTERM", "dispose"), ("SIGKILL", "restart")] {
            let daemon = try await LiveDaemon(agents: Self.agents(), in: dir)
            let (socket, _) = try await Self.attach(daemon)
            socket.send(["type": .string("message"), "content": .string("go")])
            let requestId = try #require(try await socket.waitFor(type: "permission_request")["requestId"]?.stringValue)
            if stop == "SIGTERM" {
                #expect(try await daemon.stop() == 0)
            } else {
                daemon.process.signal(SIGKILL)
                _ = try await daemon.process.waitForExit(within: .seconds(30))
            }
            await socket.close()
            let next = try await LiveDaemon(agents: Self.agents(), in: dir)
            let row = try await next.http(.GET, "/v1/requests/\(requestId)").body
            #expect(row["state"] == .string("expired") && row["by"] == .string(by), "\(stop): \(row)")
            #expect(try await next.http(.GET, "/v1/requests").body == .array([]))
            let late = try await next.http(.POST, "/v1/requests/\(requestId)", body: #"{"decision":"allow"}"#)
            #expect(late.status == 409)
            #expect(try await next.stop() == 0)
        }
    }
}
