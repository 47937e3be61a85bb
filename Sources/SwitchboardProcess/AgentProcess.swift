import Subprocess
import SwitchboardAdapterAPI
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One child process a plugin owns — an agent CLI, a server — in a process group of its own.
///
/// - Its stdout arrives as complete lines (``ProcessLine``), in order, on one reading task;
///   a line longer than ``Options/maxLineBytes`` is dropped and reported, never buffered
///   without bound.
/// - The last ``Options/stderrTailLines`` lines of stderr are kept for error messages.
/// - ``write(_:)`` and ``closeInput()`` feed its stdin; ``signalGroup(_:)`` signals the whole
///   group. Neither blocks: both are served by the task that owns the process.
/// - ``stop(_:)`` runs the stop sequence: close stdin → grace → SIGTERM to the group → grace
///   → SIGKILL, and returns once the process has been reaped.
/// - How it ended is a typed ``ProcessExit``.
/// - Every process is reaped, and its pipes closed, before ``waitForExit()`` returns; when
///   stdout ends while the process lives on, it is stopped; what it left running in its group
///   is killed. ``ProcessGuardian`` kills the group even if the host dies by SIGKILL.
///
/// The process runs inside swift-subprocess's `run { execution in … }` on a task this object
/// owns; the execution handle never leaves that closure. For a process that must be gone
/// when a scope ends, ``withProcess(_:options:onLine:body:)`` starts it, runs the body, and
/// stops and reaps it before returning — the same promise swift-subprocess's `run` makes.
public final class AgentProcess: Sendable {
    /// How the process is run and read.
    public struct Options: Sendable {
        /// The longest stdout line delivered, in bytes; longer ones are reported as
        /// ``ProcessLine/tooLong(bytes:limit:)``.
        public var maxLineBytes: Int = 64 * 1024 * 1024
        /// How many stderr lines are kept for ``ProcessExit/stderrTail``.
        public var stderrTailLines: Int = 12
        /// How long to wait, once stdout closed, for the process to exit before each step of
        /// the stop sequence.
        public var exitGrace: Duration = .seconds(5)
        /// Called for each stderr line as well (it is kept in the tail either way).
        public var onStandardErrorLine: (@Sendable (ProcessLine) -> Void)?

        /// The defaults: 64 MiB lines, 12 stderr lines, 5 s grace.
        public init() {}
    }

    /// The stop sequence: how long each step may take before the next.
    public struct StopSequence: Sendable, Hashable {
        /// After closing stdin, before SIGTERM.
        public var closeInputGrace: Duration
        /// After SIGTERM, before SIGKILL.
        public var terminateGrace: Duration

        /// A sequence with the given graces.
        public init(closeInputGrace: Duration, terminateGrace: Duration) {
            self.closeInputGrace = closeInputGrace
            self.terminateGrace = terminateGrace
        }

        /// The same grace for both steps.
        public static func grace(_ grace: Duration) -> StopSequence {
            StopSequence(closeInputGrace: grace, terminateGrace: grace)
        }
    }

    private enum Input: Sendable {
        case write([UInt8])
        case close
    }

    /// The process id (also its process group id).
    public let pid: pid_t
    /// What was run, for messages.
    public let launch: ProcessLaunch
    private let inputs: AsyncStream<Input>.Continuation
    private let signals: AsyncStream<Subprocess.Signal>.Continuation
    private let exit: OneShot<ProcessExit>
    private let runner: Mutex<Task<Void, Never>?>
    private let stderrTail: RecentLines

    private init(pid: pid_t, launch: ProcessLaunch, inputs: AsyncStream<Input>.Continuation, signals: AsyncStream<Subprocess.Signal>.Continuation,
                 exit: OneShot<ProcessExit>, runner: Task<Void, Never>, stderrTail: RecentLines) {
        self.pid = pid
        self.launch = launch
        self.inputs = inputs
        self.signals = signals
        self.exit = exit
        self.runner = Mutex(runner)
        self.stderrTail = stderrTail
    }

    /// Starts `launch` in a new process group. The program is resolved on the launch's
    /// `PATH` first, so a missing binary is a clear error naming it and its settings key.
    ///
    /// - Parameters:
    ///   - onLine: called for each stdout line, in order, on the reading task.
    ///   - onExit: called once, after the process has been reaped.
    /// - Throws: ``AdapterError`` (`agentFailure`) when the process cannot be started.
    public static func start(
        _ launch: ProcessLaunch,
        options: Options = Options(),
        onLine: @escaping @Sendable (ProcessLine) -> Void = { _ in },
        onExit: @escaping @Sendable (ProcessExit) -> Void = { _ in }
    ) async throws(AdapterError) -> AgentProcess {
        let executable = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        ignoreSIGPIPE()
        var platform = PlatformOptions()
        platform.processGroupID = 0  // its own group, so signals reach everything it starts
        // If the owning task is cancelled while the process runs, swift-subprocess tears it down.
        platform.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: options.exitGrace)]
        var environment: [Environment.Key: String] = [:]
        for (name, value) in launch.environment { environment[Environment.Key(stringLiteral: name)] = value }
        let configuration = Configuration(
            executable: .path(FilePath(executable)),
            arguments: Arguments(launch.arguments),
            environment: .custom(environment),
            workingDirectory: launch.workingDirectory.map { FilePath($0) },
            platformOptions: platform
        )
        let (inputStream, inputs) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        let (signalStream, signals) = AsyncStream.makeStream(of: Subprocess.Signal.self, bufferingPolicy: .unbounded)
        let spawned = OneShot<Result<pid_t, AdapterError>>()
        let exit = OneShot<ProcessExit>()
        let tail = RecentLines(capacity: options.stderrTailLines)
        let runner = Task {
            var guarded: pid_t = 0
            do {
                let result = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .sequence, error: .sequence
                ) { execution in
                    let pid = execution.processIdentifier.value
                    ProcessGuardian.guardGroup(pid)
                    guarded = pid
                    spawned.set(.success(pid))
                    return await serve(
                        execution, inputs: inputStream, inputContinuation: inputs,
                        signals: signalStream, signalContinuation: signals,
                        options: options, tail: tail, onLine: onLine
                    )
                }
                ProcessGuardian.release(guarded)
                let status: ProcessExit.Status = switch result.terminationStatus {
                case .exited(let code): .exited(Int32(truncatingIfNeeded: code))
                case .signaled(let signal): .signaled(Int32(truncatingIfNeeded: signal))
                }
                let ended = ProcessExit(status: status, stderrTail: tail.lines)
                onExit(ended)
                exit.set(ended)
            } catch {
                ProcessGuardian.release(guarded)
                inputs.finish()
                signals.finish()
                spawned.set(.failure(AdapterError(.agentFailure, "Could not start the \(launch.role) '\(executable)': \(error)")))
                exit.set(ProcessExit(status: .exited(127), stderrTail: tail.lines))
            }
        }
        guard let outcome = await spawned.wait() else {
            runner.cancel()
            await runner.value
            throw AdapterError(.agentFailure, "Starting the \(launch.role) '\(executable)' was cancelled.")
        }
        switch outcome {
        case .success(let pid):
            return AgentProcess(pid: pid, launch: launch, inputs: inputs, signals: signals, exit: exit, runner: runner, stderrTail: tail)
        case .failure(let error):
            await runner.value
            throw error
        }
    }

    /// Starts `launch`, runs `body` with the process, then stops it with `stop` and waits
    /// until it has been reaped — also when `body` throws or is cancelled.
    public static func withProcess<Result: Sendable>(
        _ launch: ProcessLaunch,
        options: Options = Options(),
        stop sequence: StopSequence = .grace(.seconds(5)),
        onLine: @escaping @Sendable (ProcessLine) -> Void = { _ in },
        body: (AgentProcess) async throws -> Result
    ) async throws -> Result {
        let process = try await start(launch, options: options, onLine: onLine)
        do {
            let result = try await body(process)
            await process.stop(sequence)
            return result
        } catch {
            await process.stop(sequence)
            throw error
        }
    }

    /// The body of `run`: serves stdin and signals, reads stdout and stderr, and returns once
    /// the child is gone.
    private static func serve(
        _ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>,
        inputs: AsyncStream<Input>, inputContinuation: AsyncStream<Input>.Continuation,
        signals: AsyncStream<Subprocess.Signal>, signalContinuation: AsyncStream<Subprocess.Signal>.Continuation,
        options: Options, tail: RecentLines,
        onLine: @escaping @Sendable (ProcessLine) -> Void
    ) async {
        let writer = execution.standardInputWriter
        async let stderrRead: Void = tail.read(execution.standardError, onLine: options.onStandardErrorLine)
        async let inputsServed: Void = {
            for await input in inputs {
                switch input {
                case .write(let bytes): _ = try? await writer.write(bytes)
                case .close: try? await writer.finish()
                }
            }
            try? await writer.finish()
        }()
        async let signalsServed: Void = {
            for await signal in signals {
                try? execution.send(signal: signal, toProcessGroup: true)
            }
        }()
        // Stdout ends when the child exits (swift-subprocess cancels the read then, even if
        // a grandchild still holds the pipe) or when the child closes it.
        var splitter = LineSplitter(maxLineLength: options.maxLineBytes)
        do {
            for try await chunk in execution.standardOutput {
                chunk.withUnsafeBytes { splitter.feed($0, line: onLine) }
            }
        } catch {
            // A cancelled or failed read ends the stream like EOF does.
        }
        splitter.finish(line: onLine)
        if !hasExited(execution.processIdentifier) {
            // Stdout closed but the child lives on: close stdin, then escalate.
            try? await writer.finish()
            for signal in [nil, Subprocess.Signal.terminate, .kill] as [Subprocess.Signal?] {
                if let signal { try? execution.send(signal: signal, toProcessGroup: true) }
                if await waitUntilExited(execution.processIdentifier, within: options.exitGrace) { break }
            }
        }
        inputContinuation.finish()
        signalContinuation.finish()
        await inputsServed
        await signalsServed
        // The leader is a zombie until this closure returns, so its group id cannot have
        // been reused: kill whatever it left running in its group.
        try? execution.send(signal: .kill, toProcessGroup: true)
        await stderrRead
    }

    /// Whether the child has exited (it may not have been reaped yet).
    private static func hasExited(_ id: ProcessIdentifier) -> Bool {
        if id.processDescriptor >= 0 {
            var descriptor = pollfd(fd: id.processDescriptor, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, 0) == 1
        }
        return ProcessStat.hasEnded(id.value)
    }

    private static func waitUntilExited(_ id: ProcessIdentifier, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if hasExited(id) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return hasExited(id)
    }

    // MARK: - Talking to the process

    /// Writes bytes to its stdin (in order with the other writes); ignored once stdin is closed.
    public func write(_ bytes: [UInt8]) {
        inputs.yield(.write(bytes))
    }

    /// Writes a line of text (a `\n` is added) to its stdin.
    public func writeLine(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        inputs.yield(.write(bytes))
    }

    /// Closes its stdin.
    public func closeInput() {
        inputs.yield(.close)
    }

    /// Sends `signal` (`SIGINT`, `SIGTERM`, `SIGKILL`, …) to its whole process group;
    /// ignored once it has exited.
    public func signalGroup(_ signal: Int32) {
        signals.yield(Subprocess.Signal(rawValue: signal))
    }

    /// The last stderr lines so far, oldest first.
    public var recentStandardError: [String] { stderrTail.lines }

    /// How it ended, once it has been reaped.
    public var exitStatus: ProcessExit? { exit.value }

    /// Waits until it has been reaped; `nil` if that did not happen within `limit`.
    public func waitForExit(within limit: Duration) async -> ProcessExit? {
        await exit.wait(within: limit)
    }

    /// Waits until it has been reaped and its task has finished.
    @discardableResult
    public func waitForExit() async -> ProcessExit {
        let task = runner.withLock { $0 }
        await task?.value
        // The runner sets the exit before it finishes.
        return exit.value ?? ProcessExit(status: .exited(-1))
    }

    /// The stop sequence: close stdin and wait, then SIGTERM and wait, then SIGKILL —
    /// always to the whole process group — and wait until it is reaped.
    @discardableResult
    public func stop(_ sequence: StopSequence) async -> ProcessExit {
        closeInput()
        if await waitForExit(within: sequence.closeInputGrace) == nil {
            signalGroup(SIGTERM)
            if await waitForExit(within: sequence.terminateGrace) == nil {
                signalGroup(SIGKILL)
            }
        }
        return await waitForExit()
    }
}

/// The last lines a process wrote, bounded in count and in line length, readable while it
/// runs: the stderr tail of every ``AgentProcess``, and what a plugin keeps of a server's
/// output for its error messages.
public final class RecentLines: Sendable {
    private let limit: Int
    private let kept = Mutex<[String]>([])

    /// Keeps the last `capacity` lines.
    public init(capacity: Int) { limit = max(0, capacity) }

    /// The lines kept, oldest first.
    public var lines: [String] { kept.withLock { $0 } }

    /// Keeps `line` (cut to 2000 bytes; a blank line is left out; a dropped line is noted).
    public func append(_ line: ProcessLine) {
        var text: String
        switch line {
        case .text(let bytes): text = String(decoding: bytes, as: UTF8.self)
        case .tooLong(let bytes, _): text = "(a line of \(bytes) bytes, left out)"
        }
        if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { return }
        if text.utf8.count > 2000 { text = String(text.prefix(2000)) + "…" }
        kept.withLock { lines in
            lines.append(text)
            if lines.count > limit { lines.removeFirst(lines.count - limit) }
        }
    }

    /// Reads `stream` to its end into these lines, also handing each line to `onLine`.
    func read(_ stream: SubprocessOutputSequence, onLine: (@Sendable (ProcessLine) -> Void)?) async {
        var splitter = LineSplitter(maxLineLength: 1 << 20)
        let keep: (ProcessLine) -> Void = { line in
            onLine?(line)
            self.append(line)
        }
        do {
            for try await chunk in stream {
                chunk.withUnsafeBytes { splitter.feed($0, line: keep) }
            }
        } catch {}
        splitter.finish(line: keep)
    }
}
