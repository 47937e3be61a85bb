import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardServer

/// Talks to a running `switchboard serve` over its HTTP API, with the token from the
/// config, the environment, or the state directory.
struct DaemonClient {
    let baseURL: String
    let token: String?
    let host: String
    let port: Int

    init(config: SwitchboardConfig) {
        let host = config.server.host == "0.0.0.0" || config.server.host == "::" ? "127.0.0.1" : config.server.host
        self.host = host
        port = config.server.port
        baseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(config.server.port)"
        token = config.server.token
            ?? ProcessInfo.processInfo.environment[AccessToken.environmentVariable]
            ?? AccessToken.read(stateDirectory: config.stateDirectory)
    }

    /// Why a request did not get an answer from the daemon at all.
    struct Unreachable: Error {}

    /// Sends a request; returns the status and the JSON body (`.null` when empty).
    /// - Throws: ``Unreachable`` when nothing listens; ``CLIError`` with the daemon's message otherwise.
    func request(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> (status: Int, body: JSONValue) {
        // The HTTP client retries refused connections until its deadline; a plain connect
        // answers "nobody listens" at once.
        guard Self.accepts(host: host, port: port) else { throw Unreachable() }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        } catch {
            throw Unreachable()
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let text = String(buffer: buffer)
        let body = text.isEmpty ? JSONValue.null : ((try? JSONValue(parsing: text)) ?? .string(text))
        if response.status.code >= 400 {
            let message = body["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)"
            throw CLIError(message)
        }
        return (Int(response.status.code), body)
    }

    /// The live-chat WebSocket URL of a workspace.
    func liveURL(workspace: String) -> String {
        let encoded = workspace.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "@._-"))) ?? workspace
        return "ws://\(host.contains(":") ? "[\(host)]" : host):\(port)/v1/live/\(encoded)"
    }

    /// Whether something accepts TCP connections at `host:port` (2 s at most).
    static func accepts(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0
    }
}
