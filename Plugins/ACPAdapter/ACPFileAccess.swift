import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure of a client method, as the JSON-RPC error the agent gets.
struct ACPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON-RPC error code: `-32002` for a missing file (ACP's "Resource not found"),
    /// `-32602` for a request that is refused, `-32603` for a failure of the client.
    var code: Int
    var message: String
    var description: String { message }

    static func notFound(_ path: String) -> ACPClientError { ACPClientError(code: -32002, message: "Resource not found: \(path)") }
    static func refused(_ message: String) -> ACPClientError { ACPClientError(code: -32602, message: message) }
    static func failed(_ message: String) -> ACPClientError { ACPClientError(code: -32603, message: message) }
}

/// The agent's file access through the client (`fs/read_text_file`, `fs/write_text_file`),
/// confined to the session's project directory.
///
/// - A relative path is resolved against the project directory (the session's `cwd`),
///   never against the host process's working directory; `.` and `..` are folded first.
/// - Symbolic links are followed to where they lead before the check: the deepest part of
///   the path that exists is resolved with `realpath`, and the result must be the project
///   directory or lie inside it. A link inside the project that points out of it is refused.
/// - Anything outside is refused with an error naming the path and the project directory.
/// - Reads take regular files of up to 16 MiB (`line` and `limit` select lines); writes
///   create the file and any missing directories inside the project, and never follow a
///   symbolic link at the last step.
struct ACPFileAccess: Sendable {
    /// The project directory as the agent was told it (the `cwd` of `session/new`).
    let root: String
    /// `root` with symbolic links resolved: what every path is checked against.
    let realRoot: String

    /// Access confined to `root`, which must be an existing directory.
    init(root: String) throws(ACPClientError) {
        guard let real = Self.realPath(root) else {
            throw .failed("The project directory '\(root)' does not exist.")
        }
        self.root = root
        self.realRoot = real
    }

    /// The largest file a read returns.
    static let readLimit = 16 << 20

    /// Where `path` (absolute, or relative to the project) really is, if it is inside the
    /// project directory.
    /// - Throws: ``ACPClientError`` (refused) for a path outside it, an empty path or one with a NUL.
    func resolve(_ path: String) throws(ACPClientError) -> String {
        guard !path.isEmpty, !path.utf8.contains(0) else { throw .refused("The path '\(path)' is not a usable file path.") }
        let lexical = Self.normalize(path.hasPrefix("/") ? path : root + "/" + path)
        // The deepest part of the path that exists, resolved; the rest appended as it is.
        var existing = lexical
        var rest: [Substring] = []
        var real: String?
        while true {
            if let resolved = Self.realPath(existing) {
                real = resolved
                break
            }
            guard existing != "/", let slash = existing.lastIndex(of: "/") else { break }
            rest.insert(existing[existing.index(after: slash)...], at: 0)
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
        guard let real else { throw .refused(outside(path)) }
        let full = rest.isEmpty ? real : (real == "/" ? "" : real) + "/" + rest.joined(separator: "/")
        guard full == realRoot || full.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else {
            throw .refused(outside(path))
        }
        return full
    }

    private func outside(_ path: String) -> String {
        "Switchboard refused access to '\(path)': it is outside the session's project directory '\(root)'."
    }

    /// `fs/read_text_file`: the file's text, from line `line` (1-based) for `limit` lines.
    func read(_ path: String, line: Int?, limit: Int?) throws(ACPClientError) -> String {
        let target = try resolve(path)
        guard Self.exists(target) else { throw .notFound(path) }
        let bytes: [UInt8]
        do {
            bytes = try FileError.readContents(of: target, maximumBytes: Self.readLimit)
        } catch {
            throw .failed("Could not read '\(path)': \(error.reason).")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard line != nil || limit != nil else { return text }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = max(1, line ?? 1) - 1
        guard first < lines.count else { return "" }
        let count = max(0, limit ?? lines.count)
        let last = first + min(count, lines.count - first)
        return lines[first..<last].joined(separator: "\n")
    }

    /// `fs/write_text_file`: writes `content`, creating the file and missing directories.
    /// - Returns: the path written, for the chat.
    @discardableResult
    func write(_ path: String, content: String) throws(ACPClientError) -> String {
        let target = try resolve(path)
        var info = stat()
        if stat(target, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            throw .refused("Switchboard refused to write '\(path)': it is not a regular file.")
        }
        try makeDirectories(Self.parent(of: target), for: path)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .failed("Could not write '\(path)': \(String(cString: strerror(errno))).") }
        defer { close(fd) }
        if let failure = writeAll(fd, Array(content.utf8)) {
            throw .failed("Could not write '\(path)': \(failure).")
        }
        return target
    }

    /// Creates `directory` and its missing parents (all inside the project: the path was
    /// checked, and nothing below its deepest existing part is a link).
    private func makeDirectories(_ directory: String, for path: String) throws(ACPClientError) {
        if Self.isDirectory(directory) { return }
        if directory.count > realRoot.count { try makeDirectories(Self.parent(of: directory), for: path) }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw .failed("Could not create the directory for '\(path)': \(String(cString: strerror(errno))).")
        }
    }

    // MARK: - Paths

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// An absolute path with `.`, `..` and repeated slashes folded away (`..` above `/`
    /// stays at `/`).
    static func normalize(_ absolute: String) -> String {
        var kept: [Substring] = []
        for component in absolute.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                if !kept.isEmpty { kept.removeLast() }
                continue
            }
            kept.append(component)
        }
        return "/" + kept.joined(separator: "/")
    }
}

/// Writes all of `bytes` to `fd`; the system's reason when that failed.
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + offset, raw.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            return String(cString: strerror(errno))
        }
        offset += n
    }
    return nil
}
