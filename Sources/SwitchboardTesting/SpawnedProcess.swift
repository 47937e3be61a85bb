#if canImport(Glibc)
import Glibc
#endif
import SwitchboardProcess
import Synchronization

/// A child process for tests that read its output and signal it — a real `switchboard
/// serve`, say: an ``AgentProcess`` (its own process group, default signal handling, reaped
/// when it ends, killed if the test process dies) whose stdout lines go into a ``Recorder``.
public final class SpawnedProcess: Sendable {
    /// The child's process id.
    public var pid: pid_t { process.pid }
    /// Every line the child wrote to stdout, as it arrives.
    public let lines: Recorder<String>
    /// Every line the child wrote to stderr, as it arrives.
    public var errorLines: Recorder<String> { errors }
    private let errors: Recorder<String>
    private let process: AgentProcess

    private init(process: AgentProcess, lines: Recorder<String>, errors: Recorder<String>) {
        self.process = process
        self.lines = lines
        self.errors = errors
    }

    /// Starts `executable` with `arguments`; `environment` entries are added to this
    /// process's environment.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> SpawnedProcess {
        var env = ProcessLaunch.currentEnvironment()
        for (key, value) in environment { env[key] = value }
        let lines = Recorder<String>()
        let errors = Recorder<String>()
        var options = AgentProcess.Options()
        options.stderrTailLines = 0
        options.onStandardErrorLine = { line in errors.append(line.string ?? "(a line too long to keep)") }
        let process = try await AgentProcess.start(
            ProcessLaunch(program: executable, arguments: arguments, environment: env, role: "program"),
            options: options,
            onLine: { line in lines.append(line.string ?? "(a line too long to keep)") },
            onExit: { _ in lines.finish() }
        )
        return SpawnedProcess(process: process, lines: lines, errors: errors)
    }

    /// Sends `signal` to the child (not to its group).
    public func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    /// Waits for the first stdout line containing `text`, and returns it.
    @discardableResult
    public func waitForLine(containing text: String, within timeout: Duration = .seconds(60)) async throws -> String {
        let found = try await lines.wait(within: timeout) { $0.contains { $0.contains(text) } }
        return found.first { $0.contains(text) }!
    }

    /// Waits for the child to exit; returns its exit code (or 128 + the signal that ended it).
    @discardableResult
    public func waitForExit(within timeout: Duration = .seconds(60)) async throws -> Int32 {
        guard let exit = await process.waitForExit(within: timeout) else {
            throw DeadlineExpired(what: "process \(pid)", timeout: timeout)
        }
        switch exit.status {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    /// Writes `text` to the child's stdin.
    public func write(_ text: String) {
        process.write(Array(text.utf8))
    }

    /// Closes the child's stdin (it reads end of input).
    public func closeInput() {
        process.closeInput()
    }

    /// Whether the child has exited (and been reaped).
    public var hasExited: Bool { process.exitStatus != nil }

    /// What the child wrote to stderr so far.
    public var stderr: String { errors.items.joined(separator: "\n") }

    /// Kills the child's process group if it still runs. Tests call this in `defer`.
    public func terminate() {
        if !hasExited { process.signalGroup(SIGKILL) }
    }
}

/// The processes whose parent is `pid`, read from /proc (state `Z` ones included,
/// ``ProcessGuardian`` helpers left out).
public func childProcesses(of pid: pid_t) -> [(pid: pid_t, state: Character, command: String)] {
    ProcessStat.all()
        .filter { $0.parent == pid && !ProcessStat.isGuardian($0.pid) }
        .map { ($0.pid, $0.state, $0.command) }
}
