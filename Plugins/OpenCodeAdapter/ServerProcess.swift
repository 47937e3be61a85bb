import SwitchboardAdapterAPI
import SwitchboardProcess

/// A child process the plugin owns (`opencode serve`, `docker exec …`, `docker inspect`):
/// an ``AgentProcess`` in a process group of its own, guarded so it dies with the host,
/// whose stdout and stderr lines are kept in a bounded log for error messages.
final class OwnedProcess: Sendable {
    let process: AgentProcess
    private let log: RecentLines

    private init(process: AgentProcess, log: RecentLines) {
        self.process = process
        self.log = log
    }

    /// Starts `program` (looked up on the `PATH` of `environment` unless it has a slash).
    /// - Throws: ``AdapterError`` (`agentFailure`) naming the program and `settingKey`.
    static func start(
        _ program: String, _ arguments: [String], environment: [String: String], directory: String?,
        role: String, settingKey: String
    ) async throws(AdapterError) -> OwnedProcess {
        let log = RecentLines(capacity: 200)
        var options = AgentProcess.Options()
        options.maxLineBytes = 64 * 1024
        options.stderrTailLines = 0
        options.onStandardErrorLine = { line in log.append(line) }
        let launch = ProcessLaunch(program: program, arguments: arguments, environment: environment,
                                   workingDirectory: directory, role: role, settingKey: settingKey)
        let process = try await AgentProcess.start(launch, options: options, onLine: { line in log.append(line) })
        return OwnedProcess(process: process, log: log)
    }

    /// Whether the process has exited (and was reaped).
    var hasExited: Bool { process.exitStatus != nil }

    /// How it ended, for messages: "exited with code 3", or "is running".
    var exitDescription: String { process.exitStatus?.description ?? "is running" }

    /// Waits until the process has exited, or `timeout` passed; returns whether it exited.
    func waitForExit(within timeout: Duration) async -> Bool {
        await process.waitForExit(within: timeout) != nil
    }

    /// Stops the process group: SIGTERM, then SIGKILL after `grace`; returns once reaped.
    func stop(grace: Duration = .seconds(3)) async {
        await process.stop(AgentProcess.StopSequence(closeInputGrace: .zero, terminateGrace: grace))
    }

    /// The last `lines` lines it wrote (stdout and stderr, in the order they were read).
    func logTail(lines: Int = 20) -> String {
        let text = log.lines.suffix(lines).joined(separator: "\n")
        return text.isEmpty ? "(the log is empty)" : text
    }
}
