import Subprocess
import SwitchboardAdapterAPI
import Synchronization

/// The Claude Code backend: one long-lived `claude -p` process per session, in stream-json
/// mode, started on the first message and kept for the next turns.
///
/// - Each user message is one JSON line on the process's stdin; the text never appears on
///   a command line. The process is started with `--resume=<agent session id>` when the
///   session has one, and `--model=<model>` when a model is set.
/// - Output lines become chat messages through ``ClaudeStreamMapper``; the `result` line
///   ends the turn (`done` + `idle`, or `error` + `error`).
/// - A model change applies to the next turn: if the running process has another model, it
///   is shut down between turns and a new one resumes the session with the new model.
/// - Interrupt writes the CLI's interrupt control request; if the turn has not ended
///   within `interruptGraceMs`, SIGINT, SIGTERM and SIGKILL follow, each after the same
///   grace, to the process group. The turn then ends with status `interrupted`.
/// - A process that dies during a turn ends it with an `error` that says how it ended and
///   what it last wrote to stderr; the next message starts a new process with `--resume`.
/// - Dispose closes stdin, waits, sends SIGTERM, waits, sends SIGKILL (to the group), and
///   returns once the process has been reaped.
final class ClaudeAgent: ChannelBackedAdapter {
    /// One turn in progress.
    final class Turn: Sendable {
        let ended = OneShot<Void>()
        let interruptRequested = Atomic<Bool>(false)
    }

    /// One process and what belongs to it.
    final class Running: Sendable {
        /// The model it was started with.
        let model: String?
        let mapper = Mutex(ClaudeStreamMapper())
        /// Set when the adapter stops it on purpose: its exit is then no failure.
        let retiring = Atomic<Bool>(false)
        private let processBox = Mutex<ClaudeProcess?>(nil)

        init(model: String?) { self.model = model }

        var process: ClaudeProcess? {
            get { processBox.withLock { $0 } }
            set { processBox.withLock { $0 = newValue } }
        }
    }

    private struct State {
        var options: StartOptions?
        var model: String?
        var disposed = false
        var current: Running?
        var turn: Turn?
        var interruptCount = 0
    }

    let settings: ClaudeSettings
    private let channel = AdapterEventChannel()
    private let state = Mutex(State())
    /// Serialises what starts and stops processes: a turn's start, interrupt, dispose.
    private let lifecycle = AsyncLock()
    /// The host environment the processes inherit (replaceable for tests).
    private let hostEnvironment: [String: String]

    var events: AsyncStream<AdapterEvent> { channel.events }
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    init(settings: ClaudeSettings, hostEnvironment: [String: String] = ClaudeLaunch.currentEnvironment()) {
        self.settings = settings
        self.hostEnvironment = hostEnvironment
    }

    private var interruptGrace: Duration { .milliseconds(settings.interruptGraceMilliseconds) }
    private var shutdownGrace: Duration { .milliseconds(settings.shutdownGraceMilliseconds) }

    // MARK: - AgentAdapter

    func start(_ options: StartOptions) async throws {
        let disposed = state.withLock { $0.disposed }
        guard !disposed else { throw AdapterError(.invalidState, "The claude adapter has been disposed.") }
        // Check now what the first message would need, so a bad config fails the start.
        let launch = ClaudeLaunch.make(settings: settings, options: options, model: options.model,
                                       resume: options.agentSessionId, hostEnvironment: hostEnvironment)
        _ = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        state.withLock { s in
            s.options = options
            s.model = options.model
        }
        if let id = options.agentSessionId, !id.isEmpty { channel.setAgentSessionId(id) }
    }

    func sendMessage(_ text: String) async throws {
        let disposed = state.withLock { $0.disposed }
        guard !disposed else { throw AdapterError(.invalidState, "The claude adapter has been disposed.") }
        guard channel.transition(from: [.idle, .error, .interrupted], to: .running) else {
            throw AdapterError(.invalidState, "A turn is already running.")
        }
        let turn = Turn()
        state.withLock { $0.turn = turn }
        await lifecycle.withLock {
            do {
                let running = try await ensureProcess()
                running.process?.write(ClaudeInput.userTurn(text))
            } catch let error as AdapterError {
                fail(turn, error.message)
            } catch {
                fail(turn, "\(error)")
            }
        }
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model.isEmpty ? nil : model }
    }

    func interrupt() async throws {
        await lifecycle.withLock {
            let (turn, running, number) = state.withLock { s -> (Turn?, Running?, Int) in
                s.interruptCount += 1
                return (s.turn, s.current, s.interruptCount)
            }
            guard let turn, turn.ended.value == nil else { return }
            turn.interruptRequested.store(true, ordering: .sequentiallyConsistent)
            guard let process = running?.process else {
                end(turn, status: .interrupted)
                return
            }
            process.write(ClaudeInput.interrupt(requestId: "switchboard-interrupt-\(number)"))
            for signal in [Subprocess.Signal.interrupt, .terminate, .kill] {
                if await turn.ended.wait(within: interruptGrace) != nil { return }
                process.signalGroup(signal)
            }
            // SIGKILL always works; the exit ends the turn.
            _ = await turn.ended.wait(within: shutdownGrace + interruptGrace)
            end(turn, status: .interrupted)
        }
    }

    func dispose() async {
        state.withLock { $0.disposed = true }
        await lifecycle.withLock {
            let (running, turn) = state.withLock { s -> (Running?, Turn?) in
                defer { s.current = nil; s.turn = nil }
                return (s.current, s.turn)
            }
            if let running {
                running.retiring.store(true, ordering: .sequentiallyConsistent)
                await running.process?.shutdown(grace: shutdownGrace)
            }
            turn?.ended.set(())
        }
        channel.finish()
    }

    // MARK: - Processes

    /// The process for the next turn: the current one if it runs with the wanted model,
    /// else a new one that resumes the session. Called under ``lifecycle``.
    private func ensureProcess() async throws -> Running {
        let (disposed, options, model, current) = state.withLock { ($0.disposed, $0.options, $0.model, $0.current) }
        guard !disposed else { throw AdapterError(.invalidState, "The claude adapter has been disposed.") }
        guard let options else { throw AdapterError(.invalidState, "The claude adapter was not started.") }
        if let current, let process = current.process, process.exitStatus == nil, current.model == model {
            return current
        }
        if let current {
            // Another model: stop this process between turns; the new one resumes.
            state.withLock { s in if s.current === current { s.current = nil } }
            current.retiring.store(true, ordering: .sequentiallyConsistent)
            await current.process?.shutdown(grace: shutdownGrace)
        }
        let launch = ClaudeLaunch.make(settings: settings, options: options, model: model,
                                       resume: channel.agentSessionId, hostEnvironment: hostEnvironment)
        let executable = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        let running = Running(model: model)
        state.withLock { $0.current = running }
        do {
            running.process = try await ClaudeProcess.launch(
                launch, executable: executable, exitGrace: shutdownGrace,
                onLine: { [weak self] line in self?.handle(line, from: running) },
                onExit: { [weak self] exit in self?.exited(running, exit) }
            )
        } catch {
            state.withLock { s in if s.current === running { s.current = nil } }
            throw error
        }
        return running
    }

    /// One stdout line of `running`.
    private func handle(_ line: UnsafeBufferPointer<UInt8>, from running: Running) {
        let events = running.mapper.withLock { $0.map(line) }
        for event in events {
            switch event {
            case .message(let message):
                channel.emit(message)
            case .sessionId(let id):
                channel.setAgentSessionId(id)
            case .result(let result):
                let turn = state.withLock { s -> Turn? in
                    guard s.current === running, let turn = s.turn else { return nil }
                    s.turn = nil
                    return turn
                }
                guard let turn else { continue }
                if turn.interruptRequested.load(ordering: .sequentiallyConsistent) {
                    if !result.isError { channel.emit(result.message) }
                    end(turn, status: .interrupted, clearing: false)
                } else {
                    channel.emit(result.message)
                    end(turn, status: result.isError ? .error : .idle, clearing: false)
                }
            case .controlResponse:
                break  // the turn's end (or the escalation) is what counts
            }
        }
    }

    /// `running` was reaped.
    private func exited(_ running: Running, _ exit: ClaudeExit) {
        let (turn, sawInit) = state.withLock { s -> (Turn?, Bool) in
            guard s.current === running else { return (nil, false) }
            s.current = nil
            defer { s.turn = nil }
            return (s.turn, running.mapper.withLock { $0.sessionId != nil })
        }
        guard let turn, !running.retiring.load(ordering: .sequentiallyConsistent) else { return }
        if turn.interruptRequested.load(ordering: .sequentiallyConsistent) {
            end(turn, status: .interrupted, clearing: false)
            return
        }
        var reason = "claude \(exit) \(sawInit ? "during the turn" : "before it answered")"
        if exit.stderrTail.isEmpty {
            reason += "."
        } else {
            reason += ": " + exit.stderrTail.joined(separator: "\n")
        }
        if sawInit { reason += "\nThe next message starts it again, resuming the session." }
        channel.emit(ChatMessage(type: .error, content: reason))
        end(turn, status: .error, clearing: false)
    }

    /// Ends `turn` with an `error` message, unless it already ended.
    private func fail(_ turn: Turn, _ reason: String) {
        guard turn.ended.value == nil else { return }
        let current = state.withLock { s -> Bool in
            guard s.turn === turn else { return false }
            s.turn = nil
            return true
        }
        guard current else { return }
        channel.emit(ChatMessage(type: .error, content: reason))
        end(turn, status: .error, clearing: false)
    }

    /// Reports the turn's final status and wakes whoever waits for its end.
    private func end(_ turn: Turn, status: SessionStatus, clearing: Bool = true) {
        if clearing {
            let wasCurrent = state.withLock { s -> Bool in
                guard s.turn === turn else { return false }
                s.turn = nil
                return true
            }
            guard wasCurrent else { turn.ended.set(()); return }
        }
        guard turn.ended.value == nil else { return }
        channel.setStatus(status)
        turn.ended.set(())
    }
}
