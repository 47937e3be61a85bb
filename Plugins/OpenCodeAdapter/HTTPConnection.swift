import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A reply from the OpenCode server.
struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A failed request: the server could not be reached or broke the connection.
struct HTTPFailure: Error, CustomStringConvertible {
    var description: String
}

/// A minimal HTTP/1.1 client for the OpenCode server on a TCP address: one connection per
/// request (`Connection: close`), blocking socket I/O on a thread of its own so no
/// cooperative thread ever blocks, and a streaming variant for the `/event` SSE body.
///
/// A dependency-free client keeps the plugin's `.so` small and free of a second copy of
/// SwiftNIO next to the host's.
struct HTTPEndpoint: Sendable {
    var host: String
    var port: Int
    var authorization: String?

    /// Sends one request and reads the whole reply.
    func request(_ method: String, _ path: String, body: String? = nil, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        let request = encode(method, path, body: body)
        let (host, port) = (self.host, self.port)
        let seconds = Int(timeout.components.seconds)
        return try await onThread {
            let socket = try Socket.connect(host: host, port: port, timeoutSeconds: seconds)
            defer { socket.close() }
            try socket.send(request)
            var reader = ResponseReader(socket: socket)
            let (status, headers) = try reader.readHead()
            return HTTPReply(status: status, body: try reader.readBody(headers: headers))
        }
    }

    /// Opens a streaming request (the SSE `/event` route) and returns once the status line
    /// and headers have arrived. Read it with ``EventStream/nextEvent()``.
    func openEventStream(_ path: String) async throws -> EventStream {
        let request = encode("GET", path, body: nil, accept: "text/event-stream")
        let (host, port) = (self.host, self.port)
        return try await onThread {
            let socket = try Socket.connect(host: host, port: port, timeoutSeconds: 30)
            do {
                try socket.send(request)
                var reader = ResponseReader(socket: socket)
                let (status, headers) = try reader.readHead()
                guard status == 200 else {
                    let body = (try? reader.readBody(headers: headers)) ?? []
                    throw HTTPFailure(description: "GET \(path) answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
                }
                socket.clearTimeouts()
                return EventStream(socket: socket, reader: reader, chunked: headers["transfer-encoding"]?.lowercased().contains("chunked") == true)
            } catch {
                socket.close()
                throw error
            }
        }
    }

    private func encode(_ method: String, _ path: String, body: String?, accept: String = "application/json") -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: \(accept)\r\nConnection: close\r\n"
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil || method == "POST" {
            head += "Content-Type: application/json\r\nContent-Length: \(bodyBytes.count)\r\n"
        }
        return Array((head + "\r\n").utf8) + bodyBytes
    }
}

/// Runs blocking work on a thread of its own and returns its result.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// A connected TCP socket.
final class Socket: Sendable {
    let fd: Int32
    private let closed = Mutex(false)

    private init(fd: Int32) { self.fd = fd }

    static func connect(host: String, port: Int, timeoutSeconds: Int) throws -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw HTTPFailure(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd >= 0 {
                let socket = Socket(fd: fd)
                socket.setTimeouts(seconds: timeoutSeconds)
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return socket }
                lastError = errno
                socket.close()
            }
            entry = info.pointee.ai_next
        }
        throw HTTPFailure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    func setTimeouts(seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func clearTimeouts() { setTimeouts(seconds: 0) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPFailure(description: "send failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Reads some bytes; an empty array at the end of the stream.
    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return Array(buffer[0..<n]) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw HTTPFailure(description: "the server did not answer in time") }
            throw HTTPFailure(description: "receive failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Wakes a reader blocked in ``receive()`` (it sees the end of the stream).
    func shutdownBoth() {
        closed.withLock { isClosed in
            if !isClosed { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    func close() {
        closed.withLock { isClosed in
            guard !isClosed else { return }
            isClosed = true
            _ = Glibc.close(fd)
        }
    }
}

/// Reads an HTTP/1.1 response from a socket: the head, then a body in any of the three framings.
struct ResponseReader {
    let socket: Socket
    var buffer: [UInt8] = []
    var atEnd = false

    init(socket: Socket) { self.socket = socket }

    /// Reads more bytes into the buffer; false at the end of the stream.
    mutating func fill() throws -> Bool {
        guard !atEnd else { return false }
        let bytes = try socket.receive()
        if bytes.isEmpty { atEnd = true; return false }
        buffer += bytes
        return true
    }

    /// One line without its CRLF; nil at the end of the stream.
    mutating func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if try !fill() {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
        }
    }

    mutating func readHead() throws -> (Int, [String: String]) {
        guard let statusLine = try readLine() else { throw HTTPFailure(description: "the server closed the connection without answering") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPFailure(description: "malformed status line '\(statusLine)'") }
        var headers: [String: String] = [:]
        while let line = try readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    mutating func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw HTTPFailure(description: "the connection ended inside a body") }
        }
        defer { buffer.removeSubrange(0..<count) }
        return Array(buffer[0..<count])
    }

    /// The next chunk of a chunked body; nil after the last one.
    mutating func readChunk() throws -> [UInt8]? {
        guard let sizeLine = try readLine() else { return nil }
        let size = Int(sizeLine.split(separator: ";").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16) ?? 0
        if size == 0 { return nil }
        let chunk = try readExactly(size)
        _ = try readLine()
        return chunk
    }

    mutating func readBody(headers: [String: String]) throws -> [UInt8] {
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while let chunk = try readChunk() { body += chunk }
            return body
        }
        if let length = headers["content-length"].flatMap({ Int($0) }) { return try readExactly(length) }
        while try fill() {}
        defer { buffer.removeAll() }
        return buffer
    }
}

/// The server's event stream: `data: <json>` frames separated by blank lines.
final class EventStream: @unchecked Sendable {
    // Only the reading thread touches `reader` and `pending`; `socket` is thread-safe.
    private let socket: Socket
    private var reader: ResponseReader
    private let chunked: Bool
    private var pending: [UInt8] = []
    private var bodyEnded = false

    init(socket: Socket, reader: ResponseReader, chunked: Bool) {
        self.socket = socket
        self.reader = reader
        self.chunked = chunked
        if !chunked {
            pending = reader.buffer
            self.reader.buffer = []
        }
    }

    /// Blocks until the next event's data; nil when the stream ended or was closed.
    func nextEvent() -> String? {
        var data: [String] = []
        while let line = nextLine() {
            if line.isEmpty {
                if !data.isEmpty { return data.joined(separator: "\n") }
                continue
            }
            if line.hasPrefix("data:") {
                var value = line.dropFirst(5)
                if value.first == " " { value = value.dropFirst() }
                data.append(String(value))
            }
        }
        return nil
    }

    private func nextLine() -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard !bodyEnded, let more = try? moreBody(), !more.isEmpty else {
                bodyEnded = true
                return nil
            }
            pending += more
        }
    }

    private func moreBody() throws -> [UInt8] {
        if chunked { return try reader.readChunk() ?? [] }
        return try socket.receive()
    }

    /// Ends the stream: a blocked ``nextEvent()`` returns nil.
    func close() { socket.shutdownBoth() }

    /// Releases the socket; call after the reader has stopped.
    func release() { socket.close() }
}
