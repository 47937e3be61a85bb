import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

/// A child process the plugin owns (`opencode serve`, `docker exec …`, `docker inspect`):
/// an ``AgentProcess`` in a process group of its own, guarded so it dies with the host,
/// whose stdout and stderr lines are kept in a bounded log for error messages.
final class OwnedProcess: Sendable {
    let process: AgentProcess
    private let log: OutputLog

    private init(process: AgentProcess, log: OutputLog) {
        self.process = process
        self.log = log
    }

    /// Starts `program` (looked up on the `PATH` of `environment` unless it has a slash).
    /// - Throws: ``AdapterError`` (`agentFailure`) naming the program and `settingKey`.
    static func start(
        _ program: String, _ arguments: [String], environment: [String: String], directory: String?,
        role: String, settingKey: String
    ) async throws(AdapterError) -> OwnedProcess {
        let log = OutputLog()
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
        let text = log.last(lines).joined(separator: "\n")
        return text.isEmpty ? "(the log is empty)" : text
    }
}

/// The last lines a process wrote, bounded.
final class OutputLog: Sendable {
    static let capacity = 200
    private let lines = Mutex<[String]>([])

    func append(_ line: ProcessLine) {
        let text = line.string ?? "(a line too long to keep)"
        lines.withLock { kept in
            kept.append(text)
            if kept.count > Self.capacity { kept.removeFirst(kept.count - Self.capacity) }
        }
    }

    func last(_ count: Int) -> [String] {
        lines.withLock { Array($0.suffix(count)) }
    }
}
