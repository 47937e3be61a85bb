import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the daemon for what no HTTP or WebSocket client does on
/// purpose: send a head byte by byte, hold a connection open without a word, never answer a
/// ping. Every read has a deadline; sends never raise SIGPIPE.
final class RawConnection {
    let fd: Int32
    private(set) var received: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket() failed: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw DaemonError("connect() failed: \(reason)")
        }
    }

    deinit { close(fd) }

    /// Sends bytes; false when the peer has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What one read gave.
    enum ReadResult: Equatable {
        case data(Int)
        case closed
        case nothing
    }

    /// Waits up to `timeout` for something to read and reads it into ``received``.
    func readOnce(within timeout: Duration) -> ReadResult {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&pollfd, 1, ms) > 0 else { return .nothing }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return .closed }  // end of file, or a reset
        received += chunk[0..<n]
        return .data(n)
    }

    /// Reads until the peer closes the connection; false when it is still open at the deadline.
    func waitForClose(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if readOnce(within: deadline - ContinuousClock.now) == .closed { return true }
        }
        return false
    }

    /// Reads until `predicate` holds for what was received (or the connection closes); returns
    /// whether it held.
    func waitFor(within timeout: Duration, _ predicate: ([UInt8]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !predicate(received) {
            guard ContinuousClock.now < deadline, readOnce(within: deadline - ContinuousClock.now) != .closed else {
                return predicate(received)
            }
        }
        return true
    }

    /// What was received, as text.
    var text: String { String(decoding: received, as: UTF8.self) }

    /// Reads one complete HTTP response (head and `Content-Length` body) and removes it from
    /// ``received``; `nil` if none arrived in time.
    func readResponse(within timeout: Duration = .seconds(10)) -> RawHTTP.Reply? {
        var reply: RawHTTP.Reply?
        _ = waitFor(within: timeout) { bytes in
            reply = Self.parseResponse(bytes)
            return reply != nil
        }
        if let reply {
            let length = reply.head.utf8.count + 4 + reply.body.utf8.count
            received.removeFirst(min(length, received.count))
        }
        return reply
    }

    private static func parseResponse(_ bytes: [UInt8]) -> RawHTTP.Reply? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let length = head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = text[end.upperBound...].utf8.prefix(length)
        guard body.count == length else { return nil }
        return RawHTTP.Reply(status: status, head: head, body: String(decoding: body, as: UTF8.self))
    }
}

/// The WebSocket frames a raw connection received after its upgrade.
enum RawWebSocket {
    struct Frame: Equatable {
        var opcode: UInt8
        var payload: [UInt8]
    }

    /// Splits server frames (unmasked) out of `bytes`; the rest is an incomplete frame.
    static func frames(in bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var i = 0
        while i + 2 <= bytes.count {
            let opcode = bytes[i] & 0x0F
            var length = Int(bytes[i + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard i + 4 <= bytes.count else { break }
                length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                header = 4
            } else if length == 127 {
                guard i + 10 <= bytes.count else { break }
                length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[i + 2 + $1]) }
                header = 10
            }
            guard length >= 0, i + header + length <= bytes.count else { break }
            frames.append(Frame(opcode: opcode, payload: Array(bytes[(i + header)..<(i + header + length)])))
            i += header + length
        }
        return frames
    }

    /// The bytes after the HTTP head (the 101 response).
    static func afterHead(_ bytes: [UInt8]) -> [UInt8] {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return [] }
        for i in 0...(bytes.count - 4) where Array(bytes[i..<(i + 4)]) == end {
            return Array(bytes[(i + 4)...])
        }
        return []
    }

    /// A masked client frame.
    static func clientFrame(opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }
}
