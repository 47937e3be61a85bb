import SwitchboardAgentTesting
import Foundation
import SwitchboardTesting

/// One HTTP/1.1 exchange over a plain socket, for what a high-level client will not send
/// (a `HEAD`, a WebSocket upgrade with chosen headers): writes `request`, reads the head and
/// the `Content-Length` body, or until the server closes, with a deadline on every read.
enum RawHTTP {
    struct Reply {
        var status: Int
        var head: String
        var body: String
    }

    static func exchange(port: Int, _ request: String, timeoutSeconds: Int = 5) throws -> Reply {
        let connection = try LoopbackConnection(port: port)
        guard connection.send(request) else { throw DaemonError("send() failed") }
        let isHead = request.hasPrefix("HEAD ")
        var reply: Reply?
        if connection.waitFor(within: .seconds(timeoutSeconds), { reply = complete($0, isHead: isHead); return reply != nil }), let reply {
            return reply
        }
        guard connection.readOnce(within: .zero) == .closed else {
            throw DaemonError("no complete answer within \(timeoutSeconds) s: \(connection.text)")
        }
        guard let reply = complete(connection.received, isHead: true) else { throw DaemonError("the connection closed without an answer") }
        return reply
    }

    /// The reply, once the head and (unless `isHead` or a 101) the whole body are in.
    private static func complete(_ bytes: [UInt8], isHead: Bool) -> Reply? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let body = String(text[end.upperBound...])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let length = head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        if isHead || status == 101 || body.utf8.count >= length { return Reply(status: status, head: head, body: body) }
        return nil
    }

    /// A WebSocket upgrade request for `path` with extra header lines.
    static func upgrade(_ path: String, headers: [String] = []) -> String {
        (["GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"] + headers)
            .joined(separator: "\r\n") + "\r\n\r\n"
    }
}
