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

    init(config: SwitchboardConfig) {
        let host = config.server.host == "0.0.0.0" || config.server.host == "::" ? "127.0.0.1" : config.server.host
        baseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(config.server.port)"
        token = config.server.token
            ?? ProcessInfo.processInfo.environment[AccessToken.environmentVariable]
            ?? AccessToken.read(stateDirectory: config.stateDirectory)
    }

    /// Why a request did not get an answer from the daemon at all.
    struct Unreachable: Error {}

    /// Sends a request; returns the status and the JSON body (`.null` when empty).
    /// - Throws: ``Unreachable`` when nothing listens; ``CLIError`` with the daemon's message otherwise.
    func request(_ method: HTTPMethod, _ path: String) async throws -> (status: Int, body: JSONValue) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
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
}
