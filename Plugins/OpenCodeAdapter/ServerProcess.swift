import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process the plugin owns: spawned with `posix_spawn` into a process group of its
/// own, with a clean signal mask and default handlers, stdout and stderr appended to a log
/// file; reaped by a thread of its own; stopped by signalling the whole group.
final class OwnedProcess: Sendable {
    let pid: pid_t
    let logPath: String
    private let exitRecord = ExitRecord()

    /// Starts `executable` (looked up on the `PATH` of `environment` unless it has a slash).
    init(_ executable: String, _ arguments: [String], environment: [String: String], directory: String?, logPath: String) throws(HTTPFailure) {
        self.logPath = logPath
        guard let path = Self.resolve(executable, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw HTTPFailure(description: "'\(executable)' was not found on PATH")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        // Glibc's addchdir_np is not visible to Swift: a shell changes directory, then execs.
        var program = path
        var argumentList = [path] + arguments
        if let directory {
            program = "/bin/sh"
            argumentList = ["/bin/sh", "-c", #"cd -- "$1" && shift && exec "$@""#, "sh", directory, path] + arguments
        }
        let argv = argumentList.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, program, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw HTTPFailure(description: "cannot start '\(path)': \(String(cString: strerror(rc)))") }
        pid = child
        let exitRecord = self.exitRecord, spawned = child
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            exitRecord.status.withLock { $0 = status }
        }
    }

    static func resolve(_ command: String, path: String) -> String? {
        if command.contains("/") { return command }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(command)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Whether the process has exited (and was reaped).
    var hasExited: Bool { exitRecord.status.withLock { $0 != nil } }

    /// How it ended, for messages: "exited with status 3" or "was killed by signal 9".
    var exitDescription: String {
        guard let status = exitRecord.status.withLock({ $0 }) else { return "is running" }
        let signal = status & 0x7F
        return signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(signal)"
    }

    /// Waits until the process has exited (polling the reaper's record), or `timeout`
    /// passed; returns whether it exited.
    func waitForExit(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !hasExited && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return hasExited
    }

    /// Stops the process group: SIGTERM, then SIGKILL after `grace`; returns once reaped.
    func stop(grace: Duration = .seconds(3)) async {
        guard !hasExited else { killGroup(SIGKILL); return }
        killGroup(SIGTERM)
        if await waitForExit(within: grace) { killGroup(SIGKILL); return }
        killGroup(SIGKILL)
        _ = await waitForExit(within: .seconds(10))
    }

    /// Signals every process of the group (what the server may have started too).
    func killGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// The last `lines` lines of the log.
    func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
        let joined = tail.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return joined.isEmpty ? "(the log is empty)" : joined
    }
}

/// The wait status of a reaped process, shared with the reaping thread.
final class ExitRecord: Sendable {
    let status = Mutex<Int32?>(nil)
}
