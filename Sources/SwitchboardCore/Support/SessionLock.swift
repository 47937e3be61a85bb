#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A lock file that keeps two processes from running one session at once: `<directory>/<id>.lock`,
/// held with `flock` for as long as the session is live here, the holder's pid inside. The
/// kernel releases it when the process ends, however it ends.
final class SessionLock: Sendable {
    private let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock of `sessionId` in `directory` (made with mode 0700 when missing).
    /// - Throws: ``SessionError`` `lockedElsewhere` naming the other process when it holds the
    ///   lock; `startFailed` when the lock file cannot be made.
    static func acquire(sessionId: String, in directory: String) throws(SessionError) -> SessionLock {
        if !FilePaths.isDirectory(directory) {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw SessionError(.startFailed, "Cannot make the lock directory '\(directory)': \(String(cString: strerror(errno))).")
            }
        }
        let path = FilePaths.join(directory, sessionId + ".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw SessionError(.startFailed, "Cannot open the lock file '\(path)': \(String(cString: strerror(errno))).")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readPid(fd)
            close(fd)
            let who = holder.map { "process \($0)" } ?? "another process"
            throw SessionError(.lockedElsewhere, "Session \(sessionId) is run by \(who) using the same state directory; stop it there, or use that process (for a daemon: its HTTP API, or `switchboard chat`, which goes through it).")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return SessionLock(descriptor: fd, path: path)
    }

    /// Releases the lock (the file stays; the next holder overwrites the pid).
    func release() {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count - 1, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return Int32(text)
    }
}
