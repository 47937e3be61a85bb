#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a port on 127.0.0.1, for what no HTTP or WebSocket client does
/// on purpose: send a head byte by byte, hold a connection open without a word, never answer
/// a ping. Every read has a deadline; sends never raise SIGPIPE. Not thread-safe: one owner.
public final class LoopbackConnection {
    /// The socket.
    public let fd: Int32
    /// Everything read so far.
    public var received: [UInt8] = []

    /// A connection that could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects (blocking) to `127.0.0.1:port`.
    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: \(String(cString: strerror(errno)))") }
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
            throw Failure(description: "connect() failed: \(reason)")
        }
    }

    deinit { close(fd) }

    /// Sends bytes; false when the peer has closed the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Sends text as UTF-8; false when the peer has closed the connection.
    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What one read gave.
    public enum ReadResult: Equatable, Sendable {
        /// This many bytes arrived.
        case data(Int)
        /// The peer closed the connection (or reset it).
        case closed
        /// Nothing arrived in time.
        case nothing
    }

    /// Waits up to `timeout` for something to read and reads it into ``received``.
    public func readOnce(within timeout: Duration) -> ReadResult {
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
    public func waitForClose(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if readOnce(within: deadline - ContinuousClock.now) == .closed { return true }
        }
        return false
    }

    /// Reads until `predicate` holds for what was received (or the connection closes); returns
    /// whether it held.
    public func waitFor(within timeout: Duration, _ predicate: ([UInt8]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !predicate(received) {
            guard ContinuousClock.now < deadline, readOnce(within: deadline - ContinuousClock.now) != .closed else {
                return predicate(received)
            }
        }
        return true
    }

    /// What was received, as text.
    public var text: String { String(decoding: received, as: UTF8.self) }
}
