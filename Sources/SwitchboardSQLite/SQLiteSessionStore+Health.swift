import SwitchboardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The device and inode a path named when the store was opened: when the path names another
/// file later (or none), what the open connections write goes to a file nobody will read.
struct FileIdentity: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64

    /// The identity of the file at `path`, or the `errno` of a failed `stat`.
    static func of(_ path: String) -> Result<FileIdentity, Errno> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(Errno(code: errno)) }
        return .success(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
    }

    /// An `errno` value as an error.
    struct Errno: Error, Hashable {
        var code: Int32
        var text: String { String(cString: strerror(code)) }
    }
}

extension SQLiteSessionStore {
    /// Healthy while the store's path still names the file that was opened. When the file was
    /// removed or replaced (moved over, restored from a backup…), SQLite goes on writing to the
    /// old file, which is lost at the next open: the store reports that here and refuses every
    /// write with ``SessionStoreError/Code/unavailable``.
    public func health() async -> SessionStoreHealth {
        fileHealth()
    }

    /// The health of the files, checked now (a `stat` each).
    func fileHealth() -> SessionStoreHealth {
        let main = Self.health(of: path, opened: identity)
        return main.isHealthy ? Self.health(of: logPath, opened: logIdentity) : main
    }

    /// Whether `path` still names the file opened as `identity`.
    static func health(of path: String, opened identity: FileIdentity?) -> SessionStoreHealth {
        guard let identity else { return .healthy }
        switch FileIdentity.of(path) {
        case .success(let now) where now == identity:
            return .healthy
        case .success:
            return SessionStoreHealth(problem: "Session store '\(path)' was replaced by another file while it was open, so what is written to it would be lost; writes are refused until the store is opened again (restart the daemon).")
        case .failure(let error) where error.code == ENOENT || error.code == ENOTDIR:
            return SessionStoreHealth(problem: "Session store '\(path)' was removed while it was open, so what is written to it would be lost; writes are refused until the store is opened again (restart the daemon).")
        case .failure(let error):
            return SessionStoreHealth(problem: "Session store '\(path)' cannot be checked (\(error.text)); writes are refused until it can.")
        }
    }

    /// Throws ``SessionStoreError/Code/unavailable`` unless the file is still the one opened.
    /// Checked before each write, and after it: a write that went to a file removed meanwhile
    /// is reported as failed, since it will not be found again.
    func checkWritable(_ action: String, committed: Bool) throws(SessionStoreError) {
        guard let problem = fileHealth().problem else { return }
        let what = committed ? "The write to \(action) may be lost" : "Could not \(action)"
        throw SessionStoreError(.unavailable, "\(what): \(problem)")
    }
}
