import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// Hostile values from outside — integers, ids, headers — get the documented error, and the
/// daemon keeps answering.
@Suite("Input limits: integers, ids, auth and origins", .serialized, .childProcessGate)
struct InputLimitsTests {
    static let agents = LiveChatTests.scripted(#"[{"messages":[{"type":"assistant","content":"ok"}]}]"#)
    static let hostileIntegers = ["0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999999", "1.5", "\"x\""]

    /// Sends a request with extra headers; the token as `Authorization` unless `authorization` says otherwise.
    static func request(_ daemon: LiveDaemon, _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [],
                        authorization: String?? = .none, body: String? = nil) async throws -> (status: Int, body: JSONValue) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(daemon.port)\(path)")
        request.method = method
        if let authorization = authorization ?? "Bearer \(daemon.token)" { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        return (Int(response.status.code), text.isEmpty ? .null : try JSONValue(parsing: text))
    }

    static func expectHealthy(_ daemon: LiveDaemon) async throws {
        let health = try await daemon.http(.GET, "/health", token: .some(nil))
        #expect(health.status == 200 && health.body == .object(["status": .string("ok"), "store": .string("sqlite")]))
    }

    @Test("`since` and `resumeFromId` with 0, -1, Int64.max, Int64.min, a huge number, a fraction and a string get the documented answers")
    func integers() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("connect")])
        let id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
        socket.send(["type": .string("message"), "content": .string("hi")])
        try await socket.waitForStatus("idle")
        let newest = try #require(LiveChatTests.seqs(socket.frames.items).last)

        for value in Self.hostileIntegers {
            let query = value.replacingOccurrences(of: "\"", with: "")
            let answer = try await daemon.http(.GET, "/v1/sessions/\(id)/messages?since=\(query)")
            switch query {
            case "0":
                #expect(answer.status == 200 && LiveChatTests.seqs(answer.body.arrayValue ?? []) == Array(1...newest))
            case "-1":
                #expect(answer.status == 200 && LiveChatTests.seqs(answer.body.arrayValue ?? []) == Array(0...newest))
            case "9223372036854775807":
                #expect(answer.status == 200 && answer.body == .array([]))
            default:
                #expect(answer.status == 400, "since=\(query)")
                #expect(answer.body["error"]?["message"] == .string("'since' must be a sequence number, not '\(query)'."))
            }
        }
        // Beyond the newest seq, over HTTP: nothing.
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)/messages?since=\(newest)").body == .array([]))
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)/messages?since=\(newest + 100)").body == .array([]))

        for value in Self.hostileIntegers {
            let before = socket.frames.items.count
            socket.send(#"{"type":"connect","sessionId":"\#(id)","resumeFromId":\#(value)}"#)
            switch value {
            case "0", "-1", "9223372036854775807":
                try await socket.waitFor(type: "session_joined", after: before)
                try await socket.frames.wait(within: .seconds(10)) {
                    $0.dropFirst(before).contains { $0["content"]?.stringValue?.hasPrefix("Connected to session") == true }
                }
            default:
                let error = try await socket.waitFor(type: "error", after: before)
                let expected = value == "-9223372036854775808"
                    ? "'resumeFromId' must be a sequence number (-1 or more), not -9223372036854775808."
                    : "'resumeFromId' must be a whole number, not \(value)."
                #expect(error["content"] == .string(expected))
            }
        }
        try await Self.expectHealthy(daemon)
        await socket.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("Hostile session ids are refused over HTTP and WebSocket, and never reach the log")
    func hostileIds() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let socket = try await daemon.socket("w")
        let huge = String(repeating: "x", count: 1_000_000)
        for id in ["a\nFORGED line", huge, "", "../x", "-x", "a b", "é"] {
            let body = JSONValue.object(["workspace": .string("w"), "sessionId": .string(id)]).jsonText
            let answer = try await daemon.http(.POST, "/v1/sessions", body: body)
            #expect(answer.status == 400)
            let message = try #require(answer.body["error"]?["message"]?.stringValue)
            #expect(message.hasPrefix("The session id '") && message.hasSuffix("is not valid: use 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit."))
            #expect(message.utf8.count < 400 && !message.contains("\n"))
            let before = socket.frames.items.count
            socket.send(["type": .string("connect"), "sessionId": .string(id)])
            #expect(try await socket.waitFor(type: "error", after: before)["content"] == .string(message))
        }
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"my-session_1.a"}"#).status == 201)
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","agentType":"x\ny"}"#).status == 400)
        // Path ids and workspaces are taken as written.
        #expect(try await daemon.http(.GET, "/v1/sessions/my%2Dsession_1.a").status == 404)
        #expect(try await daemon.http(.GET, "/v1/sessions/my-session_1.a").status == 200)
        #expect(try await daemon.http(.GET, "/v1/live/%40host").status == 400)
        try await Self.expectHealthy(daemon)
        await socket.close()
        #expect(try await daemon.stop() == 0)
        #expect(!daemon.process.stderr.contains("FORGED"))
        #expect(!daemon.process.stderr.contains(String(repeating: "x", count: 200)))
    }

    @Test("The bearer scheme is case-insensitive; ?token= works only on the live-chat path; HEAD /health answers without a body")
    func authentication() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        #expect(try await Self.request(daemon, .GET, "/v1/agents", authorization: "bearer \(daemon.token)").status == 200)
        #expect(try await Self.request(daemon, .GET, "/v1/agents", authorization: "BEARER \(daemon.token)").status == 200)
        #expect(try await Self.request(daemon, .GET, "/v1/agents", authorization: "Basic \(daemon.token)").status == 401)
        let query = try await Self.request(daemon, .GET, "/v1/agents?token=\(daemon.token)", authorization: .some(nil))
        #expect(query.status == 401 && query.body["error"]?["code"] == .string("unauthorized"))
        #expect(query.body["error"]?["message"] == .string("The token may be given as ?token= only on the live-chat WebSocket path; send Authorization: Bearer <token>."))
        let posted = try await Self.request(daemon, .POST, "/v1/sessions?token=\(daemon.token)", authorization: .some(nil), body: #"{"workspace":"w"}"#)
        #expect(posted.status == 401)
        let socket = try await daemon.socket("w")  // ?token= on the upgrade
        try await socket.waitFor(type: "connected")
        await socket.close()
        let head = try RawHTTP.exchange(port: daemon.port, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.head.lowercased().contains("content-type: application/json"))
        try await Self.expectHealthy(daemon)
        #expect(try await daemon.stop() == 0)
    }

    @Test("A foreign Origin is refused on the upgrade and on state-changing routes; the own and allowed origins are accepted")
    func origins() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents, extraConfig: #", "server": {"allowedOrigins": ["https://app.example"]}"#)
        let port = daemon.port
        let body = #"{"workspace":"w"}"#
        let refused = try await Self.request(daemon, .POST, "/v1/sessions", headers: [("Origin", "http://evil.example")], body: body)
        #expect(refused.status == 403 && refused.body["error"]?["code"] == .string("origin_not_allowed"))
        #expect(refused.body["error"]?["message"] == .string("The origin 'http://evil.example' is not allowed to use this daemon (see server.allowedOrigins)."))
        for origin in ["http://127.0.0.1:\(port + 1)", "https://127.0.0.1:\(port)", "null", "http://localhost.evil.example:\(port)"] {
            #expect(try await Self.request(daemon, .POST, "/v1/sessions", headers: [("Origin", origin)], body: body).status == 403, "\(origin)")
        }
        for origin in ["http://127.0.0.1:\(port)", "http://localhost:\(port)", "https://app.example"] {
            #expect(try await Self.request(daemon, .POST, "/v1/sessions", headers: [("Origin", origin)], body: body).status == 201, "\(origin)")
        }
        #expect(try await Self.request(daemon, .DELETE, "/v1/sessions/nope", headers: [("Origin", "http://evil.example")]).status == 403)
        #expect(try await Self.request(daemon, .GET, "/v1/sessions", headers: [("Origin", "http://evil.example")]).status == 200)
        let plainLive = try await Self.request(daemon, .GET, "/v1/live/w", headers: [("Origin", "http://evil.example")])
        #expect(plainLive.status == 403 && plainLive.body["error"]?["code"] == .string("origin_not_allowed"))

        let path = "/v1/live/w?token=\(daemon.token)"
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path, headers: ["Origin: http://evil.example"])).status == 400)
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path, headers: ["Origin: http://localhost:\(port)"])).status == 101)
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path, headers: ["Origin: https://app.example"])).status == 101)
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path)).status == 101)
        // Not a browser's origin (a WebSocket library's): treated like none.
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path, headers: ["Origin: ws://127.0.0.1"])).status == 101)
        #expect(try RawHTTP.exchange(port: port, RawHTTP.upgrade(path, headers: ["Origin: null"])).status == 400)
        try await Self.expectHealthy(daemon)
        #expect(try await daemon.stop() == 0)
    }
}
