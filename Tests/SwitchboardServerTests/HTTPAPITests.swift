import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

@Suite("HTTP API", .serialized, .childProcessGate)
struct HTTPAPITests {
    static let agents = LiveChatTests.scripted(#"[{"agentSessionId":"agent-1","messages":[{"type":"assistant","content":"ok"}]}, {"hang": true}]"#)

    @Test("Every route but /health needs the token; comparisons reject wrong ones")
    func auth() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        #expect(try await daemon.http(.GET, "/health", token: .some(nil)).status == 200)
        let missing = try await daemon.http(.GET, "/v1/sessions", token: .some(nil))
        #expect(missing.status == 401)
        #expect(missing.body == .object(["error": .object([
            "code": .string("unauthorized"), "message": .string("A bearer token is required (Authorization: Bearer <token>)."),
        ])]))
        let wrong = try await daemon.http(.GET, "/v1/agents", token: .some("not-the-token"))
        #expect(wrong.status == 401)
        #expect(wrong.body["error"]?["message"] == .string("The bearer token is not valid."))
        // The WebSocket upgrade needs it too (query parameter for browsers).
        await #expect(throws: (any Error).self) { _ = try await daemon.socket("w", token: "nope") }
        // The token file is readable only by its owner.
        let mode = try FileManager.default.attributesOfItem(atPath: daemon.directory.path + "/state/token")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await daemon.stop()
    }

    @Test("Sessions: start, list, show, send, messages, model, interrupt, delete")
    func sessions() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let agents = try await daemon.http(.GET, "/v1/agents")
        #expect(agents.body.arrayValue?.contains { $0["agentType"] == .string("claude") && $0["status"] == .string("loaded") } == true)

        let started = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"proj","projectPath":"/src"}"#)
        #expect(started.status == 201)
        let id = try #require(started.body["sessionId"]?.stringValue)
        #expect(started.body["status"] == .string("idle") && started.body["projectPath"] == .string("/src"))

        let sent = try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"hello"}"#)
        #expect(sent.status == 202)
        var frames: [JSONValue] = []
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            frames = try await daemon.http(.GET, "/v1/sessions/\(id)/messages").body.arrayValue ?? []
            if frames.contains(where: { $0["content"] == .string(#"{"status":"idle"}"#) }) { break }
            try await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        #expect(frames.contains { $0["type"] == .string("done") })
        let since = try await daemon.http(.GET, "/v1/sessions/\(id)/messages?since=2").body.arrayValue ?? []
        #expect(since.first?["seq"] == .int(3))
        #expect(since.count == frames.count - 3)

        let shown = try await daemon.http(.GET, "/v1/sessions/\(id)")
        #expect(shown.body["agentSessionId"] == .string("agent-1") && shown.body["live"] == .bool(true))
        let listed = try await daemon.http(.GET, "/v1/sessions?workspace=proj").body.arrayValue ?? []
        #expect(listed.map { $0["sessionId"] } == [.string(id)])
        #expect(try await daemon.http(.GET, "/v1/sessions?workspace=other").body == .array([]))

        let model = try await daemon.http(.PUT, "/v1/sessions/\(id)/model", body: #"{"model":"opus"}"#)
        #expect(model.status == 200 && model.body["model"] == .string("opus"))

        #expect(try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"hang"}"#).status == 202)
        let queued = try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"again"}"#)
        #expect(queued.status == 202 && queued.body["status"] == .string("queued") && queued.body["position"] == .int(1))
        let queueId = try #require(queued.body["queueId"]?.stringValue)
        let queue = try await daemon.http(.GET, "/v1/sessions/\(id)/queue").body.arrayValue ?? []
        #expect(queue.map { $0["queueId"] } == [.string(queueId)] && queue.first?["content"] == .string("again"))
        #expect(try await daemon.http(.DELETE, "/v1/sessions/\(id)/queue/\(queueId)").status == 204)
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)/queue").body == .array([]))
        let gone = try await daemon.http(.DELETE, "/v1/sessions/\(id)/queue/\(queueId)")
        #expect(gone.status == 404 && gone.body["error"]?["code"] == .string("not_found"))
        let interrupted = try await daemon.http(.POST, "/v1/sessions/\(id)/interrupt")
        #expect(interrupted.status == 200 && interrupted.body["status"] == .string("interrupted"))

        #expect(try await daemon.http(.DELETE, "/v1/sessions/\(id)").status == 204)
        let deleted = try await daemon.http(.GET, "/v1/sessions/\(id)")
        #expect(deleted.status == 404 && deleted.body["error"]?["message"] == .string("Session not found: \(id)"))
        try await daemon.stop()
    }

    @Test("Stored sessions are listed after a restart and restored on send")
    func storedSessions() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-http")
        defer { dir.remove() }
        let first = try await LiveDaemon(agents: Self.agents, in: dir)
        let id = try #require(try await first.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#).body["sessionId"]?.stringValue)
        try await first.stop()
        let second = try await LiveDaemon(agents: Self.agents, in: dir)
        let listed = try await second.http(.GET, "/v1/sessions").body.arrayValue ?? []
        #expect(listed.first?["sessionId"] == .string(id) && listed.first?["status"] == .string("stored") && listed.first?["live"] == .bool(false))
        #expect(try await second.http(.GET, "/v1/sessions/\(id)/messages").body == .array([]))
        #expect(try await second.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"back"}"#).status == 202)
        #expect(try await second.http(.GET, "/v1/sessions/\(id)").body["live"] == .bool(true))
        try await second.stop()
    }

    /// ``agents`` and a `codex` agent whose start fails: neither its binary nor docker exists.
    static let agentsWithFailingCodex = String(agents.dropLast())
        + #", "codex": {"settings": {"binary": "/nonexistent/codex", "docker": "/nonexistent/docker"}}}"#

    @Test("Errors: bad JSON, missing fields, bad names, unknown types and ids")
    func errors() async throws {
        let daemon = try await LiveDaemon(agents: Self.agentsWithFailingCodex)
        let cases: [(HTTPMethod, String, String?, Int, String, String)] = [
            (.POST, "/v1/sessions", "{not json", 400, "bad_request", "The request body is not valid JSON: invalid JSON at byte 1: expected a string key"),
            (.POST, "/v1/sessions", "[]", 400, "bad_request", "The request body must be a JSON object, not an array."),
            (.POST, "/v1/sessions", "{}", 400, "bad_request", "'workspace' is required."),
            (.POST, "/v1/sessions", #"{"workspace":"a b"}"#, 400, "bad_request", "The workspace name 'a b' is not valid: use letters, digits, '-', '_' and '.', not starting with '.'."),
            (.POST, "/v1/sessions", #"{"workspace":"w","agentType":"pi"}"#, 400, "unknown_agent_type", "Unknown agent type 'pi' (known types: claude, codex, opencode, scripted)."),
            (.POST, "/v1/sessions", #"{"workspace":"w","agentType":"codex"}"#, 502, "agent_failed", "The docker binary '/nonexistent/docker' does not exist (set by settings.docker in the config)."),
            (.POST, "/v1/sessions/nope/messages", #"{"content":"x"}"#, 404, "not_found", "Session not found: nope"),
            (.POST, "/v1/sessions/nope/messages", #"{"content":""}"#, 400, "bad_request", "'content' is required and must not be empty."),
            (.GET, "/v1/sessions/nope/messages?since=x", nil, 400, "bad_request", "'since' must be a sequence number, not 'x'."),
            (.PUT, "/v1/sessions/nope/model", #"{"model":"m"}"#, 404, "not_found", "Session not found: nope"),
            (.DELETE, "/v1/sessions/nope", nil, 404, "not_found", "Session not found: nope"),
        ]
        for (method, path, body, status, code, message) in cases {
            let response = try await daemon.http(method, path, body: body)
            #expect(response.status == status, "\(method) \(path) \(body ?? "")")
            #expect(response.body["error"]?["code"] == .string(code), "\(method) \(path)")
            #expect(response.body["error"]?["message"] == .string(message), "\(method) \(path)")
        }
        try await daemon.stop()
    }

    @Test("Agent session ids work in every session route; unknown routes and plain GETs of the live path answer in JSON")
    func idsAndRoutes() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let id = try #require(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#).body["sessionId"]?.stringValue)
        #expect(try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"hi"}"#).status == 202)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await daemon.http(.GET, "/v1/sessions/\(id)").body["agentSessionId"] != .string("agent-1") {
            guard ContinuousClock.now < deadline else { throw DaemonError("no agent session id") }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await daemon.http(.GET, "/v1/sessions/agent-1").body["sessionId"] == .string(id))
        #expect(try await daemon.http(.GET, "/v1/sessions/agent-1/messages").body.arrayValue?.isEmpty == false)
        let missing = try await daemon.http(.GET, "/v1/nothing-here")
        #expect(missing.status == 404 && missing.body["error"]?["code"] == .string("no_route"))
        let noToken = try await daemon.http(.GET, "/v1/live/w", token: .some(nil))
        #expect(noToken.status == 401 && noToken.body["error"]?["code"] == .string("unauthorized"))
        let plain = try await daemon.http(.GET, "/v1/live/w")
        #expect(plain.status == 426 && plain.body["error"]?["code"] == .string("upgrade_required"))
        let badName = try await daemon.http(.GET, "/v1/live/..bad")
        #expect(badName.status == 400)
        // Path parameters are not percent-decoded: `%40host` is refused, `@host` is the host workspace.
        #expect(try await daemon.http(.GET, "/v1/live/%40host").status == 400)
        let socket = try await daemon.socket("@host")
        #expect(try await socket.waitFor(type: "connected")["workspaceName"] == .string("@host"))
        await socket.close()
        #expect(try await daemon.http(.DELETE, "/v1/sessions/agent-1").status == 204)
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)").status == 404)
        try await daemon.stop()
    }

    @Test("@host is refused when host access is off, over HTTP and WebSocket")
    func hostAccessOff() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents, arguments: ["--no-host-access"])
        let refused = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"@host"}"#)
        #expect(refused.status == 403)
        #expect(refused.body["error"]?["message"] == .string("The host workspace '@host' is not allowed on this server (see allowHostWorkspace and serve --no-host-access)."))
        let socket = try await daemon.socket("@host")
        socket.send(["type": .string("connect")])
        #expect(try await socket.waitFor(type: "error")["content"] == .string("The host workspace '@host' is not allowed on this server (see allowHostWorkspace and serve --no-host-access)."))
        // Other workspaces still work.
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"box"}"#).status == 201)
        await socket.close()
        try await daemon.stop()
    }
}
