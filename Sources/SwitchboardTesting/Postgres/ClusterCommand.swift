import Foundation
import Synchronization

/// Runs the PostgreSQL programs of a ``PostgresCluster`` with `posix_spawn`: no descriptor of
/// this process but the standard ones reaches them, and signals are at their defaults.
///
/// `pg_ctl start` leaves the server running in the background. Started through Foundation's
/// `Process`, the server would inherit that `Process`'s own descriptors (and whatever pipe
/// another thread was using at that moment), so the command would never be seen to end and
/// readers of those pipes would never see end of file.
enum ClusterCommand {
    /// A finished command: its exit status (or 128 + the signal) and what it printed.
    struct Result {
        var status: Int32
        var output: String
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; not in Swift's
    /// Glibc module), looked up once; `nil` on an older C library.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()

    /// Starts `arguments` (the program first, an absolute path) in `directory` with standard
    /// input from `input` (a descriptor, or `/dev/null` when `nil`) and standard output and
    /// error to `outputPath`.
    static func spawn(_ arguments: [String], in directory: String, input: Int32? = nil, outputPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // The shell changes to the directory, then becomes the program.
        let all = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw PostgresCluster.Failure(description: "could not start \(arguments.joined(separator: " ")): posix_spawn failed with \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// Runs `arguments` to its end, waiting on a thread of its own; kills it when it runs
    /// longer than `timeout`.
    static func run(_ arguments: [String], in directory: String, outputPath: String, timeout: Duration) async throws -> Result {
        let pid = try spawn(arguments, in: directory, outputPath: outputPath)
        ChildProcess.running.withLock { _ = $0.insert(pid) }
        defer { ChildProcess.running.withLock { _ = $0.remove(pid) } }
        let finished = Flag()
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            if !finished.value.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        defer { timer.cancel() }
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                finished.value.withLock { $0 = true }
                // Exited: the status in bits 8–15; killed: 128 + the signal.
                continuation.resume(returning: raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
            }.start()
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: status, output: output)
    }
}

/// Whether a command has ended, shared by its waiting thread and its deadline.
private final class Flag: Sendable {
    let value = Mutex(false)
}
