import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardProcess
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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
///   within `interruptGraceSeconds`, SIGINT, SIGTERM and SIGKILL follow, each after the same
///   grace, to the process group. The turn then ends with status `interrupted`.
/// - A process that dies during a turn ends it with an `error` that says how it ended and
///   what it last wrote to stderr; the next message starts a new process with `--resume`.
/// - Dispose closes stdin, waits, sends SIGTERM, waits, sends SIGKILL (to the group), and
///   returns once the process has been reaped.
/// - Permission prompts (`--permission-prompt-tool=stdio`, unless `askPermissions` is off)
///   become decision requests through the channel (``ClaudePermissions``); each answer, or
///   the withdrawal at an interrupt, is written back as the CLI's `control_response`.
///
/// Turns, interrupt and dispose bookkeeping come from the SDK's ``TurnRunner``; processes
/// from ``AgentProcess``.
final class ClaudeAgent: ChannelBackedAdapter {
    /// One process and what belongs to it.
    final class Running: Sendable {
        /// The model it was started with.
        let model: String?
        let mapper = Mutex(ClaudeStreamMapper())
        /// Set when the adapter stops it on purpose: its exit is then no failure.
        let retiring = Atomic<Bool>(false)
        /// The end of the turn in progress (set by its `result` line or by the exit), and the
        /// exit once the process was reaped.
        private let turn = Mutex<(end: OneShot<TurnOutcome>?, exit: ProcessExit?)>((nil, nil))
        private let processBox = Mutex<AgentProcess?>(nil)
        /// The permission prompts being asked, each waiting for its answer.
        private let asks = Mutex<[String: Task<Void, Never>]>([:])

        init(model: String?) { self.model = model }

        /// Runs `body` (an ask and the answer it writes) on a task of this process's.
        func ask(_ id: String, _ body: @escaping @Sendable () async -> Void) {
            asks.withLock { tasks in
                tasks[id] = Task { [weak self] in
                    await body()
                    _ = self?.asks.withLock { $0.removeValue(forKey: id) }
                }
            }
        }

        /// Stops every ask still waiting (their requests are withdrawn).
        func cancelAsks() {
            let tasks = asks.withLock { t in
                defer { t = [:] }
                return Array(t.values)
            }
            for task in tasks { task.cancel() }
        }

        var process: AgentProcess? {
            get { processBox.withLock { $0 } }
            set { processBox.withLock { $0 = newValue } }
        }

        /// Makes `end` the turn in progress; returns the exit if the process is already gone.
        func attach(_ end: OneShot<TurnOutcome>) -> ProcessExit? {
            turn.withLock { t in
                t.end = end
                return t.exit
            }
        }

        /// Ends the turn in progress with `outcome`, once.
        func endTurn(_ outcome: TurnOutcome) {
            turn.withLock { $0.end }?.set(outcome)
        }

        /// Records that the process was reaped; ends the turn in progress with `outcome`.
        func exited(_ exit: ProcessExit, outcome: TurnOutcome) {
            let end = turn.withLock { t in
                t.exit = exit
                return t.end
            }
            end?.set(outcome)
        }
    }

    private struct State {
        var options: StartOptions?
        var model: String?
        var current: Running?
        var interruptCount = 0
    }

    let settings: ClaudeSettings
    let eventChannel = AdapterEventChannel()
    private let turns: TurnRunner
    private let state = Mutex(State())
    /// Serialises what starts and stops processes: a turn's start, interrupt, dispose.
    private let lifecycle = AsyncLock()
    /// The host environment the processes inherit (replaceable for tests).
    private let hostEnvironment: [String: String]

    init(settings: ClaudeSettings, hostEnvironment: [String: String] = ProcessLaunch.currentEnvironment()) {
        self.settings = settings
        self.hostEnvironment = hostEnvironment
        self.turns = TurnRunner(channel: eventChannel, agentName: "claude")
    }

    private var interruptGrace: Duration { .milliseconds(settings.interruptGraceMilliseconds) }
    private var stopSequence: AgentProcess.StopSequence { .grace(.milliseconds(settings.shutdownGraceMilliseconds)) }

    // MARK: - AgentAdapter

    func start(_ options: StartOptions) async throws {
        try turns.checkNotDisposed()
        // Check now what the first message would need, so a bad config fails the start.
        let launch = ClaudeLaunch.make(settings: settings, options: options, model: options.model,
                                       resume: options.agentSessionId, hostEnvironment: hostEnvironment)
        _ = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        state.withLock { s in
            s.options = options
            s.model = options.model
        }
        if let id = options.agentSessionId, !id.isEmpty { eventChannel.setAgentSessionId(id) }
    }

    func sendMessage(_ text: String) async throws {
        let turnEnd = OneShot<TurnOutcome>()
        try turns.begin(onInterrupt: { [weak self] in await self?.interruptTurn(turnEnd) }) { [weak self] in
            guard let self else { return .stopped }
            let started: Running
            do {
                started = try await lifecycle.withLock { try await self.ensureProcess() }
            } catch {
                return .failed((error as? AdapterError)?.message ?? "\(error)")
            }
            // A process that ended before the turn was attached ends the turn at once.
            if let exit = started.attach(turnEnd) {
                return .failed(Self.failureReason(exit, sawInit: false))
            }
            started.process?.write(ClaudeInput.userTurn(text))
            return await turnEnd.wait() ?? .stopped
        }
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model.isEmpty ? nil : model }
    }

    func interrupt() async throws {
        await turns.interrupt()
    }

    /// Asks the CLI to stop the turn, then escalates to SIGINT, SIGTERM and SIGKILL on its
    /// process group, each after the interrupt grace, until the turn has ended.
    private func interruptTurn(_ turnEnd: OneShot<TurnOutcome>) async {
        await lifecycle.withLock {
            let (running, number) = state.withLock { s -> (Running?, Int) in
                s.interruptCount += 1
                return (s.current, s.interruptCount)
            }
            guard turnEnd.value == nil else { return }
            guard let process = running?.process else {
                turnEnd.set(.stopped)
                return
            }
            process.write(ClaudeInput.interrupt(requestId: "switchboard-interrupt-\(number)"))
            for signal in [SIGINT, SIGTERM, SIGKILL] {
                if await turnEnd.wait(within: interruptGrace) != nil { return }
                process.signalGroup(signal)
            }
            // SIGKILL always works; the exit ends the turn.
            _ = await turnEnd.wait(within: stopSequence.terminateGrace + interruptGrace)
            turnEnd.set(.stopped)
        }
    }

    func dispose() async {
        await turns.dispose { [self] in
            await lifecycle.withLock {
                let running = state.withLock { s -> Running? in
                    defer { s.current = nil }
                    return s.current
                }
                if let running {
                    running.retiring.store(true, ordering: .sequentiallyConsistent)
                    await running.process?.stop(stopSequence)
                    running.endTurn(.stopped)
                }
            }
        }
    }

    // MARK: - Processes

    /// The process for the next turn: the current one if it runs with the wanted model,
    /// else a new one that resumes the session. Called under ``lifecycle``.
    private func ensureProcess() async throws -> Running {
        try turns.checkNotDisposed()
        let (options, model, current) = state.withLock { ($0.options, $0.model, $0.current) }
        guard let options else { throw AdapterError(.invalidState, "The claude adapter was not started.") }
        if let current, let process = current.process, process.exitStatus == nil, current.model == model {
            return current
        }
        if let current {
            // Another model: stop this process between turns; the new one resumes.
            state.withLock { s in if s.current === current { s.current = nil } }
            current.retiring.store(true, ordering: .sequentiallyConsistent)
            await current.process?.stop(stopSequence)
        }
        let launch = ClaudeLaunch.make(settings: settings, options: options, model: model,
                                       resume: eventChannel.agentSessionId, hostEnvironment: hostEnvironment)
        let running = Running(model: model)
        state.withLock { $0.current = running }
        var processOptions = AgentProcess.Options()
        processOptions.exitGrace = stopSequence.terminateGrace
        do {
            running.process = try await AgentProcess.start(
                launch, options: processOptions,
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
    private func handle(_ line: ProcessLine, from running: Running) {
        guard case .text(let bytes) = line else { return }
        let events = running.mapper.withLock { $0.map(bytes) }
        for event in events {
            switch event {
            case .message(let message):
                eventChannel.emit(message)
            case .sessionId(let id):
                eventChannel.setAgentSessionId(id)
            case .result(let result):
                running.endTurn(result.isError ? .error(result.message) : .done(result.message))
            case .controlResponse:
                break  // the turn's end (or the escalation) is what counts
            case .controlRequest(let id, let request):
                guard let ask = ClaudePermissions.decisionRequest(id: id, request) else {
                    running.process?.write(ClaudePermissions.refusal(requestId: id, subtype: request["subtype"]?.stringValue ?? "unknown"))
                    continue
                }
                running.ask(id) { [eventChannel] in
                    let answer = await eventChannel.ask(ask)
                    running.process?.write(ClaudePermissions.response(requestId: id, request: request, answer: answer))
                }
            case .controlCancel(let id):
                eventChannel.withdraw(id, reason: .agent)
            }
        }
    }

    /// `running` was reaped.
    private func exited(_ running: Running, _ exit: ProcessExit) {
        running.cancelAsks()
        let wasCurrent = state.withLock { s -> Bool in
            guard s.current === running else { return false }
            s.current = nil
            return true
        }
        guard wasCurrent, !running.retiring.load(ordering: .sequentiallyConsistent) else {
            running.exited(exit, outcome: .stopped)
            return
        }
        let sawInit = running.mapper.withLock { $0.sessionId != nil }
        running.exited(exit, outcome: .failed(Self.failureReason(exit, sawInit: sawInit)))
    }

    static func failureReason(_ exit: ProcessExit, sawInit: Bool) -> String {
        var reason = "claude \(exit) \(sawInit ? "during the turn" : "before it answered")"
        reason += exit.stderrTail.isEmpty ? "." : ": " + exit.stderrTail.joined(separator: "\n")
        if sawInit { reason += "\nThe next message starts it again, resuming the session." }
        return reason
    }
}
