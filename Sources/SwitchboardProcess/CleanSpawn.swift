#if canImport(Glibc)
import Glibc
#endif

/// Starts a program with `posix_spawn` the way every helper process of ours must start: only
/// the descriptors it is given (the standard ones it is not given stay as they are), no
/// signal blocked, the usual signals at their defaults, and optionally a process group of its
/// own.
///
/// Nothing else of this process reaches the child: a pipe another thread is reading at that
/// moment (a child's stdout, say) would otherwise stay open in it, and its reader would never
/// see end of file.
public enum CleanSpawn {
    /// What one of the child's descriptors is.
    public enum Source: Sendable, Hashable {
        /// `/dev/null`: for reading as descriptor 0, for writing otherwise.
        case null
        /// A file opened for writing (created, emptied).
        case file(String)
        /// A descriptor of this process.
        case descriptor(Int32)
        /// The same as another of the child's descriptors (set after all the others).
        case sameAs(Int32)
    }

    /// `posix_spawn` failed.
    public struct Failure: Error, CustomStringConvertible {
        /// The error number it returned.
        public let code: Int32
        public var description: String { String(cString: strerror(code)) }
    }

    /// The signals a child gets back at their default actions.
    static let defaultSignals = [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2]

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; not in Swift's
    /// Glibc module), looked up once; `nil` on an older C library.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()

    /// Starts `program` (an absolute path) with `argv` (its name first) and `environment`
    /// (`NAME=value` entries; this process's own when `nil`).
    /// - Parameters:
    ///   - descriptors: the child's descriptors by number; every higher one is closed.
    ///   - ownProcessGroup: whether the child leads a new process group.
    /// - Returns: the child's pid.
    public static func spawn(
        _ program: String, argv: [String], environment: [String]? = nil,
        descriptors: [Int32: Source], ownProcessGroup: Bool
    ) throws(Failure) -> pid_t {
        let highest = descriptors.keys.max() ?? 2
        // A source that is itself one of the child's numbers moves out of the way first (a
        // dup2 onto itself would keep close-on-exec, and another target could overwrite it).
        var moved: [Int32] = []
        defer { moved.forEach { close($0) } }
        var sources: [Int32: Source] = [:]
        for (target, source) in descriptors {
            guard case .descriptor(let fd) = source, fd <= highest else {
                sources[target] = source
                continue
            }
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, highest + 1)
            guard copy >= 0 else { throw Failure(code: errno) }
            moved.append(copy)
            sources[target] = .descriptor(copy)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in sources.sorted(by: { $0.key < $1.key }) {
            switch source {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .sameAs: break
            }
        }
        for (target, source) in sources.sorted(by: { $0.key < $1.key }) {
            if case .sameAs(let other) = source { posix_spawn_file_actions_adddup2(&actions, other, target) }
        }
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, max(highest, 2) + 1) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaultSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            cArgv.forEach { free($0) }
            cEnvironment?.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = cEnvironment.map { env in posix_spawn(&child, program, &actions, &attributes, cArgv, env) }
            ?? posix_spawn(&child, program, &actions, &attributes, cArgv, environ)
        guard rc == 0 else { throw Failure(code: rc) }
        return child
    }
}
