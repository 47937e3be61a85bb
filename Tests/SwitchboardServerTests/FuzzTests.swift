import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PropertyBased
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// Property-based fuzzing of what clients send: random WebSocket frames and random HTTP
/// requests against a real daemon. Whatever arrives, the daemon answers with a documented
/// status or frame, never an internal error, and keeps serving.
@Suite("Fuzzing: WebSocket client frames and HTTP routes", .serialized, .childProcessGate)
struct FuzzTests {
    static let agents = LiveChatTests.scripted(#"[{"messages":[{"type":"assistant","content":"ok"}]}]"#)

    /// Values that stress the frame and body readers.
    static let values = [
        "null", "true", "false", "0", "-1", "1.5", "1e308", "-1e308", "9223372036854775807", "-9223372036854775808",
        "99999999999999999999999", #""""#, #""x""#, #""\u0000""#, #""\n\r\t""#, #""@host""#, #""../x""#, #""session-1""#,
        #""\#(String(repeating: "z", count: 300))""#, "[]", "{}", #"[1,"a",null]"#, #"{"a":{"b":[{}]}}"#,
    ]
    static let frameKeys = ["type", "sessionId", "agentSessionId", "model", "projectPath", "agentType", "resumeFromId", "content", "x"]
    static let frameTypes = ["connect", "message", "interrupt", "set_model", "disconnect", "", "CONNECT", "permission_response", "ping"]

    static func pick<T: Sendable>(_ items: [T]) -> Generator<T, Shrink.Integer<Int>> {
        Gen.int(in: 0...(items.count - 1)).map { items[$0] }
    }

    /// A JSON object built from chosen keys and values, a string that is not JSON, a JSON
    /// value that is not an object, or a JSON object cut short.
    static let frameText = zip(
        Gen.int(in: 0...5),
        pick(frameTypes),
        zip(pick(frameKeys), pick(values)).array(of: 0...5),
        Gen.ascii.string(of: 0...60)
    ).map { kind, type, fields, noise -> String in
        let members = ([#""type":"\#(type)""#] + fields.map { #""\#($0.0)":\#($0.1)"# }).joined(separator: ",")
        switch kind {
        case 0, 1, 2: return "{\(members)}"
        case 3: return noise
        case 4: return "[\(members)]"
        default: return String("{\(members)}".dropLast(Swift.max(1, noise.count % 10)))
        }
    }

    @Test("Random client frames get frames back, never a closed socket; the next frame is still handled")
    func webSocketFrames() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let socket = try await daemon.socket("fuzz")
        var probes = 0
        await propertyCheck(count: 150, input: Self.frameText) { text in
            socket.send(text)
            probes += 1
            // A frame nobody knows, sent after each case: its error proves the socket still
            // reads, in order.
            let probe = "probe-\(probes)"
            socket.send(["type": .string(probe)])
            let expected = "Unknown frame type '\(probe)' (known: "
            _ = try await socket.waitFor(within: .seconds(30)) { $0["type"] == .string("error") && $0["content"]?.stringValue?.hasPrefix(expected) == true }
        }
        #expect(socket.closeFrame.items.isEmpty, "the daemon closed the socket: \(socket.closeFrame.items)")
        try await InputLimitsTests.expectHealthy(daemon)
        await socket.close()
        try await daemon.stop()
    }

    static let methods: [HTTPMethod] = [.GET, .POST, .PUT, .DELETE, .PATCH, .HEAD, .OPTIONS]
    static let paths = [
        "/health", "/v1/agents", "/v1/sessions", "/v1/sessions/{id}", "/v1/sessions/{id}/messages", "/v1/sessions/{id}/interrupt",
        "/v1/sessions/{id}/model", "/v1/live/{id}", "/v1/{id}", "/{id}", "/v1/sessions/{id}/messages/{id}",
    ]
    static let ids = ["known", "unknown-1", "%40host", "a%20b", "..", "%00", "session-1", String(repeating: "i", count: 200), "%C3%A9", "-"]
    static let queries = ["", "?since=0", "?since=-1", "?since=-2", "?since=9223372036854775807", "?since=1e3", "?since=", "?workspace=@host",
                          "?token=x", "?since=99999999999999999999999", "?a=%ZZ"]
    /// What the API documents as answers; anything else (a 500 above all) is a bug.
    static let documented: Set<Int> = [200, 201, 202, 204, 400, 401, 403, 404, 409, 413, 426, 503]

    static let request = zip(
        pick(methods),
        pick(paths),
        pick(ids),
        pick(queries),
        Gen.int(in: 0...4),
        zip(pick(["workspace", "content", "model", "sessionId", "agentType", "projectPath", "x"]), pick(values)).array(of: 0...4)
    )

    @Test("Random requests to every route get a documented status with the JSON error shape; the daemon keeps answering")
    func httpRoutes() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"known"}"#).status == 201)
        await propertyCheck(count: 150, input: Self.request) { method, path, id, query, bodyKind, fields in
            let target = path.replacingOccurrences(of: "{id}", with: id) + query
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(daemon.port)\(target)")
            request.method = method
            if bodyKind > 0 { request.headers.add(name: "Authorization", value: "Bearer \(daemon.token)") }
            let members = fields.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",")
            switch bodyKind {
            case 2: request.body = .bytes(ByteBuffer(string: "{\(members)}"))
            case 3: request.body = .bytes(ByteBuffer(string: "[\(members)"))
            case 4: request.body = .bytes(ByteBuffer(string: String(repeating: "x", count: 2000)))
            default: break
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
            let status = Int(response.status.code)
            #expect(Self.documented.contains(status), "\(method) \(target) → \(status) \(text)")
            if status >= 400 && method != .HEAD {
                let body = try? JSONValue(parsing: text)
                #expect(body?["error"]?["code"]?.stringValue?.isEmpty == false, "\(method) \(target) → \(status) \(text)")
                #expect(body?["error"]?["message"]?.stringValue?.isEmpty == false)
            }
        }
        try await InputLimitsTests.expectHealthy(daemon)
        try await daemon.stop()
    }
}
