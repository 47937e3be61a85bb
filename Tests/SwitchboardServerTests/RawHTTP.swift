import SwitchboardAgentTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw DaemonError("connect() failed") }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw DaemonError("send() failed") }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let reply = complete(received, isHead: request.hasPrefix("HEAD ")) { return reply }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 { throw DaemonError("no complete answer within \(timeoutSeconds) s: \(String(decoding: received, as: UTF8.self))") }
            received += chunk[0..<n]
        }
        guard let reply = complete(received, isHead: true) else { throw DaemonError("the connection closed without an answer") }
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
