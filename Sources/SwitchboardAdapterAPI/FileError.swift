#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read, with the system's reason.
public struct FileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as it was named.
    public var path: String
    /// The system's reason, e.g. `No such file or directory`.
    public var reason: String

    public init(path: String, errno code: Int32) {
        self.path = path
        self.reason = String(cString: strerror(code))
    }

    /// A failure described in words, e.g. `not a regular file (a FIFO)`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read '\(path)': \(reason)" }

    /// The default bound of ``readContents(of:maximumBytes:)``: 16 MiB.
    public static let defaultReadLimit = 16 << 20

    /// Reads a whole file — for adapters that load a script or prompt named in their settings.
    ///
    /// The file must be a regular file of at most `maximumBytes`: a device (`/dev/zero`), a
    /// FIFO, a socket or a directory is refused at once, without reading, and so is a file
    /// that is (or grows while it is read) larger than the bound. The file is opened without
    /// blocking, so a FIFO without a writer cannot hang the caller.
    public static func readContents(of path: String, maximumBytes: Int = defaultReadLimit) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, errno: errno) }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            throw FileError(path: path, reason: "not a regular file (\(Self.kind(of: type)))")
        }
        let limit = max(0, maximumBytes)
        if Int(info.st_size) > limit {
            throw FileError(path: path, reason: "the file is larger than \(limit) bytes (\(info.st_size) bytes)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno)
            }
            if n == 0 { break }
            guard bytes.count <= limit - n else {
                throw FileError(path: path, reason: "the file is larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    private static func kind(of type: mode_t) -> String {
        switch type {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "of an unknown kind"
        }
    }
}
