import Dispatch
import Foundation
@testable import OpenCodeAdapter
import SwitchboardTesting
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection TCP server on 127.0.0.1 for the plugin's HTTP client: it listens on a
/// port the system chooses, accepts one connection on a thread of its own, records the
/// request, plays its script of writes and closes the connection.
///
/// Every blocking step has a deadline (``patience``), so a client that never connects or
/// never closes cannot keep the thread alive past the test.
final class LoopbackServer: Sendable {
    /// One step of the script, after the request has been read.
    enum Step: Sendable {
        /// Writes these bytes.
        case write(String)
        /// Waits until the test opens the gate (so what came before reaches the client alone).
        case wait(Gate)
        /// Reads until the client closes its end (a server that never answers, or a stream
        /// that stays open until the client ends it).
        case waitForClientClose
    }

    /// Lets the server's script go on when the test says so.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)

        init() {}

        /// Lets the waiting step go on.
        func open() { semaphore.signal() }

        /// Whether the gate opened within `seconds`.
        func wait(seconds: Int) -> Bool { semaphore.wait(timeout: .now() + .seconds(seconds)) == .success }
    }

    /// The port it listens on.
    let port: Int
    /// The request it received: the head and the body, as text.
    let requests = Recorder<String>()
    /// What the server thread did, step by step (`accepted`, `wrote <n>`, `closed`); finished
    /// when the thread has ended.
    let progress = Recorder<String>()

    /// How long the thread waits for the client at any one step.
    static let patience = 10

    /// Starts listening and serves one connection with `script` on a thread of its own.
    init(_ script: [Step]) throws {
        let listener = try Self.listen()
        port = listener.port
        let (requests, progress) = (self.requests, self.progress)
        let fd = listener.fd
        Thread.detachNewThread {
            defer {
                close(fd)
                progress.finish()
            }
            Self.serve(listener: fd, script: script, requests: requests, progress: progress)
        }
    }

    /// A server that answers its one request with `response` and closes.
    convenience init(response: String) throws {
        try self.init([.write(response)])
    }

    /// The plugin's client for this server.
    func endpoint(authorization: String? = nil) -> HTTPEndpoint {
        HTTPEndpoint(host: "127.0.0.1", port: port, authorization: authorization)
    }

    /// Waits until the server's thread has ended.
    func waitUntilDone(within timeout: Duration = .seconds(15)) async throws {
        try await progress.waitUntilFinished(within: timeout)
    }

    /// A port nothing listens on (bound, then closed again).
    static func closedPort() throws -> Int {
        let listener = try listen()
        close(listener.fd)
        return listener.port
    }

    private static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackServerError(message: "socket() failed: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else {
            close(fd)
            throw LoopbackServerError(message: "bind/listen on 127.0.0.1 failed: \(String(cString: strerror(errno)))")
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw LoopbackServerError(message: "getsockname failed: \(String(cString: strerror(errno)))")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private static func serve(listener: Int32, script: [Step], requests: Recorder<String>, progress: Recorder<String>) {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(patience * 1000)) == 1 else {
            progress.append("no client connected")
            return
        }
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else {
            progress.append("accept failed")
            return
        }
        // Close-on-exec, like the listener (Glibc's module has no accept4): a child process
        // that a test running beside this one starts must not inherit the connection, or
        // closing it here would not end it for the client.
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer {
            close(connection)
            progress.append("closed")
        }
        var timeout = timeval(tv_sec: patience, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        progress.append("accepted")
        guard let request = readRequest(connection) else {
            progress.append("no complete request")
            return
        }
        requests.append(request)
        for (index, step) in script.enumerated() {
            switch step {
            case .write(let text):
                guard writeAll(connection, Array(text.utf8)) else {
                    progress.append("write \(index) failed")
                    return
                }
                progress.append("wrote \(index)")
            case .wait(let gate):
                guard gate.wait(seconds: patience) else {
                    progress.append("gate \(index) never opened")
                    return
                }
            case .waitForClientClose:
                var buffer = [UInt8](repeating: 0, count: 4096)
                while buffer.withUnsafeMutableBytes({ recv(connection, $0.baseAddress, $0.count, 0) }) > 0 {}
                progress.append("client closed")
            }
        }
    }

    /// The request head and, when it has a `Content-Length`, its body.
    private static func readRequest(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = bytes.firstRange(of: separator) {
                let head = String(decoding: bytes[..<end.upperBound], as: UTF8.self)
                let length = head.split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if bytes.count - end.upperBound >= length { return String(decoding: bytes, as: UTF8.self) }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            bytes += buffer[0..<n]
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// The loopback server could not listen.
struct LoopbackServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
