#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`), which bounds how many
/// connections the daemon can hold.
public enum DescriptorLimit {
    /// Descriptors kept free of connections: the store, plugins, agent processes' pipes, logs.
    public static let reserve = 128

    /// The soft and hard limits now.
    public static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        return (clamp(limit.rlim_cur), clamp(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one (the most an unprivileged process may set) and
    /// returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHardMaximum() -> Int {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur < limit.rlim_max {
            // An unlimited hard limit is not a number the kernel takes for descriptors.
            limit.rlim_cur = limit.rlim_max == rlim_t.max ? rlim_t(1 << 20) as rlim_t : limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return current().soft
    }

    /// How many connections fit under `descriptors` open files with ``reserve`` kept free (at
    /// least one, and half the limit when it is small): `configured`, or fewer.
    public static func connectionLimit(configured: Int, descriptors: Int) -> Int {
        let room = descriptors > 2 * reserve ? descriptors - reserve : descriptors / 2
        return max(1, min(configured, room))
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }
}
