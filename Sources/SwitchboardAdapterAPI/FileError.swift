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

    public var description: String { "cannot read '\(path)': \(reason)" }

    /// Reads a whole file — for adapters that load a script or prompt named in their settings.
    public static func readContents(of path: String) throws(FileError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw FileError(path: path, errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        if ferror(file) != 0 { throw FileError(path: path, errno: EIO) }
        return bytes
    }
}
