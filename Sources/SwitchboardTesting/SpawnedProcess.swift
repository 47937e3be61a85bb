#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A child process for tests that must signal it: spawned with `posix_spawn` with a clean
/// signal mask and default handlers (a child started by Foundation's `Process` from async
/// code inherits a worker thread's mask with SIGTERM blocked), its stdout read line by line
/// into a ``Recorder``, its stderr kept in a file.
public final class SpawnedProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// Every line the child wrote to stdout, as it arrives.
    public let lines = Recorder<String>()
    /// Where the child's stderr goes.
    public let stderrPath: String
    private let exitStatus = Recorder<Int32>()

    /// Starts `executable` with `arguments`; `environment` entries are added to this
    /// process's environment.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stderrPath: String) throws {
        self.stderrPath = stderrPath
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let (readEnd, writeEnd) = (fds[0], fds[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

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
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw POSIXError(.init(rawValue: rc) ?? .EIO)
        }
        pid = child

        // Read stdout and reap the child on threads of their own: both block.
        let lines = self.lines, exitStatus = self.exitStatus
        Thread.detachNewThread {
            let file = fdopen(readEnd, "r")
            var buffer: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while let file, getline(&buffer, &capacity, file) > 0, let buffer {
                lines.append(String(cString: buffer).trimmingCharacters(in: .newlines))
            }
            free(buffer)
            if let file { fclose(file) } else { close(readEnd) }
            lines.finish()
        }
        let spawned = child
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            exitStatus.append(status)
        }
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the first stdout line containing `text`, and returns it.
    public func waitForLine(containing text: String, within timeout: Duration = .seconds(60)) async throws -> String {
        let found = try await lines.wait(within: timeout) { $0.contains { $0.contains(text) } }
        return found.first { $0.contains(text) }!
    }

    /// Waits for the child to exit; returns its exit code (or 128 + the signal that ended it).
    @discardableResult
    public func waitForExit(within timeout: Duration = .seconds(60)) async throws -> Int32 {
        let status = try await exitStatus.wait(within: timeout) { !$0.isEmpty }[0]
        let signalled = status & 0x7F
        return signalled == 0 ? (status >> 8) & 0xFF : 128 + signalled
    }

    /// Whether the child has exited (and been reaped).
    public var hasExited: Bool { !exitStatus.items.isEmpty }

    /// What the child wrote to stderr so far.
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Kills the child if it still runs. Tests call this in `defer`.
    public func terminate() {
        if !hasExited { kill(pid, SIGKILL) }
    }
}

/// The processes whose parent is `pid`, read from /proc (state `Z` ones included).
public func childProcesses(of pid: pid_t) -> [(pid: pid_t, state: Character, command: String)] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var result: [(pid_t, Character, String)] = []
    for entry in entries {
        guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { continue }
        // "pid (comm) state ppid …" — comm may contain spaces, so split after the last ')'.
        guard let close = stat.lastIndex(of: ")"), let open = stat.firstIndex(of: "(") else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 1, let parent = pid_t(fields[1]), parent == pid else { continue }
        result.append((child, fields[0].first ?? "?", String(stat[stat.index(after: open)..<close])))
    }
    return result
}
