import Subprocess
import SwitchboardAdapterAPI
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a `claude` process ended.
struct ClaudeExit: Sendable, Equatable, CustomStringConvertible {
    /// The exit code, or the signal that killed it.
    enum Status: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    var status: Status
    /// The last lines it wrote to stderr, oldest first.
    var stderrTail: [String]

    /// Whether it exited with code 0.
    var isSuccess: Bool { status == .exited(0) }

    /// `exited with code 1`, `was killed by signal 9 (SIGKILL)`.
    var description: String {
        switch status {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "was killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGPIPE: "SIGPIPE"
        case SIGHUP: "SIGHUP"
        default: nil
        }
    }
}

/// One running `claude` (or `docker exec … claude`) process in its own process group.
///
/// The process runs inside swift-subprocess's `run { execution in … }` on a task this object
/// owns; the execution handle never leaves that closure. Writes to stdin and signals reach
/// it through two streams the closure serves, so a blocked write never delays a signal.
/// Stdout is split into lines and handed to `onLine`, in order, on the reading task; the
/// last lines of stderr are kept for error messages. When stdout ends the closure makes sure
/// the child is gone, kills whatever is left in its process group, and returns; swift-subprocess
/// then reaps the child, and ``exit`` is set. Every process is therefore reaped, and its
/// pipes closed, before ``waitForExit()`` returns.
final class ClaudeProcess: Sendable {
    private enum Input: Sendable {
        case write([UInt8])
        case close
    }

    /// The process id (also its process group id).
    let pid: pid_t
    private let inputs: AsyncStream<Input>.Continuation
    private let signals: AsyncStream<Subprocess.Signal>.Continuation
    private let exit: OneShot<ClaudeExit>
    private let runner: Mutex<Task<Void, Never>?>

    private init(pid: pid_t, inputs: AsyncStream<Input>.Continuation, signals: AsyncStream<Subprocess.Signal>.Continuation,
                 exit: OneShot<ClaudeExit>, runner: Task<Void, Never>) {
        self.pid = pid
        self.inputs = inputs
        self.signals = signals
        self.exit = exit
        self.runner = Mutex(runner)
    }

    /// How many stderr lines are kept for error messages.
    static let stderrTailLines = 12

    /// Starts `executable` as described by `launch`, in a new process group.
    ///
    /// - Parameters:
    ///   - onLine: called for each stdout line, in order, on the reading task.
    ///   - onExit: called once, after the process has been reaped.
    ///   - exitGrace: how long to wait for the child after its stdout closed before signalling.
    /// - Throws: ``AdapterError`` (`agentFailure`) when the process cannot be started.
    static func launch(
        _ launch: ClaudeLaunch,
        executable: String,
        exitGrace: Duration,
        onLine: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> Void,
        onExit: @escaping @Sendable (ClaudeExit) -> Void
    ) async throws(AdapterError) -> ClaudeProcess {
        _ = ignoreSIGPIPE
        var platform = PlatformOptions()
        platform.processGroupID = 0  // its own group, so signals reach everything it starts
        // If this task is cancelled while the process runs, swift-subprocess tears it down.
        platform.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: exitGrace)]
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
        let exit = OneShot<ClaudeExit>()
        let runner = Task {
            do {
                let result = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .sequence, error: .sequence
                ) { execution in
                    spawned.set(.success(execution.processIdentifier.value))
                    return await serve(
                        execution, inputs: inputStream, inputContinuation: inputs,
                        signals: signalStream, signalContinuation: signals,
                        exitGrace: exitGrace, onLine: onLine
                    )
                }
                let status: ClaudeExit.Status = switch result.terminationStatus {
                case .exited(let code): .exited(Int32(truncatingIfNeeded: code))
                case .signaled(let signal): .signaled(Int32(truncatingIfNeeded: signal))
                }
                let ended = ClaudeExit(status: status, stderrTail: result.closureResult)
                onExit(ended)
                exit.set(ended)
            } catch {
                inputs.finish()
                signals.finish()
                let reason = AdapterError(.agentFailure, "Could not start '\(executable)': \(error)")
                spawned.set(.failure(reason))
                let ended = ClaudeExit(status: .exited(127), stderrTail: [])
                exit.set(ended)
            }
        }
        guard let outcome = await spawned.wait() else {
            runner.cancel()
            await runner.value
            throw AdapterError(.agentFailure, "Starting '\(executable)' was cancelled.")
        }
        switch outcome {
        case .success(let pid):
            return ClaudeProcess(pid: pid, inputs: inputs, signals: signals, exit: exit, runner: runner)
        case .failure(let error):
            await runner.value
            throw error
        }
    }

    /// The body of `run`: serves stdin and signals, reads stdout and stderr, and returns the
    /// stderr tail once the child is gone.
    private static func serve(
        _ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>,
        inputs: AsyncStream<Input>, inputContinuation: AsyncStream<Input>.Continuation,
        signals: AsyncStream<Subprocess.Signal>, signalContinuation: AsyncStream<Subprocess.Signal>.Continuation,
        exitGrace: Duration,
        onLine: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> Void
    ) async -> [String] {
        let writer = execution.standardInputWriter
        async let stderrTail = readTail(execution.standardError)
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
        var splitter = LineSplitter()
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
                if await waitUntilExited(execution.processIdentifier, within: exitGrace) { break }
            }
        }
        inputContinuation.finish()
        signalContinuation.finish()
        await inputsServed
        await signalsServed
        // The leader is a zombie until this closure returns, so its group id cannot have
        // been reused: kill whatever it left running in its group.
        try? execution.send(signal: .kill, toProcessGroup: true)
        return await stderrTail
    }

    private static func readTail(_ stream: SubprocessOutputSequence) async -> [String] {
        var tail: [String] = []
        var splitter = LineSplitter(maxLineLength: 1 << 20)
        func keep(_ line: UnsafeBufferPointer<UInt8>) {
            var text = String(decoding: line, as: UTF8.self)
            if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { return }
            if text.utf8.count > 2000 { text = String(text.prefix(2000)) + "…" }
            tail.append(text)
            if tail.count > stderrTailLines { tail.removeFirst(tail.count - stderrTailLines) }
        }
        do {
            for try await chunk in stream {
                chunk.withUnsafeBytes { splitter.feed($0, line: keep) }
            }
        } catch {}
        splitter.finish(line: keep)
        return tail
    }

    /// Whether the child has exited (it may not have been reaped yet).
    private static func hasExited(_ id: ProcessIdentifier) -> Bool {
        if id.processDescriptor >= 0 {
            var descriptor = pollfd(fd: id.processDescriptor, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, 0) == 1
        }
        // No pidfd: a zombie shows state Z in /proc/<pid>/stat.
        guard let file = fopen("/proc/\(id.value)/stat", "r") else { return true }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return true }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].drop { $0 == " " }.hasPrefix("Z")
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
    func write(_ bytes: [UInt8]) {
        inputs.yield(.write(bytes))
    }

    /// Closes its stdin: `claude` finishes what it is doing and exits.
    func closeInput() {
        inputs.yield(.close)
    }

    /// Sends `signal` to its whole process group; ignored once it has exited.
    func signalGroup(_ signal: Subprocess.Signal) {
        signals.yield(signal)
    }

    /// How it ended, once it has been reaped.
    var exitStatus: ClaudeExit? { exit.value }

    /// Waits until it has been reaped; `nil` if that did not happen within `limit`.
    func waitForExit(within limit: Duration) async -> ClaudeExit? {
        await exit.wait(within: limit)
    }

    /// Waits until it has been reaped and its task has finished.
    @discardableResult
    func waitForExit() async -> ClaudeExit {
        let task = runner.withLock { $0 }
        await task?.value
        // The runner sets the exit before it finishes.
        return exit.value ?? ClaudeExit(status: .exited(-1), stderrTail: [])
    }

    /// Stops it the way the official SDK does: close stdin and wait, then SIGTERM and wait,
    /// then SIGKILL — always to the whole process group — and waits until it is reaped.
    @discardableResult
    func shutdown(grace: Duration) async -> ClaudeExit {
        closeInput()
        if await waitForExit(within: grace) == nil {
            signalGroup(.terminate)
            if await waitForExit(within: grace) == nil {
                signalGroup(.kill)
            }
        }
        return await waitForExit()
    }
}

/// Writing to a pipe whose reader died raises SIGPIPE, which would kill the host. Ignore it
/// once (the write then fails with EPIPE instead); children get default signal handling
/// back from swift-subprocess.
private let ignoreSIGPIPE: Void = {
    var current = sigaction()
    if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
        signal(SIGPIPE, SIG_IGN)
    }
}()
