import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardProcess
import Synchronization

/// The Codex backend: one long-lived `codex app-server` process per session (JSON-RPC over
/// stdio), started by the first message and kept for the next turns.
///
/// - A new process is handshaken (`initialize` with `experimentalApi`, then `initialized`),
///   then loads its thread: `thread/resume` when the session has an agent session id (the
///   thread id), else `thread/start` with the project directory, approval policy, sandbox
///   and model. A resume that fails is the turn's error, naming the id — never a new thread.
/// - Each message is one `turn/start`, with the session's model; notifications become chat
///   messages through ``CodexEventMapper`` and `turn/completed` ends the turn.
/// - The thread id is reported as the agent session id once its first turn started (a
///   thread that never ran a turn cannot be resumed).
/// - Interrupt waits (within `interruptGraceSeconds`) for `turn/started` — an interrupt
///   sent earlier is lost by the server — then sends `turn/interrupt` and
///   `thread/backgroundTerminals/clean` (which stops the turn's commands). If the turn has
///   not ended after another grace, the process group is killed; the next message starts a
///   new process that resumes the thread.
/// - A process that dies during a turn ends it with an `error` (exit status, stderr tail);
///   the next message starts a new process that resumes the thread.
/// - Every server→client request is answered by ``CodexServerRequests``.
/// - Dispose closes stdin, waits, sends SIGTERM, waits, sends SIGKILL to the group, and
///   returns once the process has been reaped.
final class CodexAgent: ChannelBackedAdapter {
    private struct State {
        var options: StartOptions?
        var model: String?
        var current: CodexRunning?
        /// How many processes this adapter started: numbers its decision requests' ids.
        var processes = 0
    }

    let settings: CodexSettings
    let eventChannel = AdapterEventChannel()
    private let turns: TurnRunner
    private let state = Mutex(State())
    /// Serialises what starts and stops processes: a turn's start, interrupt, dispose.
    private let lifecycle = AsyncLock()
    private let hostEnvironment: [String: String]

    init(settings: CodexSettings, hostEnvironment: [String: String] = ProcessLaunch.currentEnvironment()) {
        self.settings = settings
        self.hostEnvironment = hostEnvironment
        self.turns = TurnRunner(channel: eventChannel, agentName: "codex")
    }

    private var grace: Duration { .milliseconds(settings.interruptGraceMilliseconds) }
    private var requestTimeout: Duration { .milliseconds(settings.requestTimeoutMilliseconds) }
    private var stopSequence: AgentProcess.StopSequence { .grace(.milliseconds(settings.shutdownGraceMilliseconds)) }

    // MARK: - AgentAdapter

    func start(_ options: StartOptions) async throws {
        try turns.checkNotDisposed()
        let launch = CodexLaunch.make(settings: settings, options: options, hostEnvironment: hostEnvironment)
        _ = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        state.withLock { s in
            s.options = options
            s.model = options.model.flatMap { $0.isEmpty ? nil : $0 }
        }
        // A thread given to resume ran before: it is resumable as it is.
        if let id = options.agentSessionId, !id.isEmpty { eventChannel.setAgentSessionId(id) }
    }

    func sendMessage(_ text: String) async throws {
        let turnEnd = OneShot<TurnOutcome>()
        let started = OneShot<String>()
        try turns.begin(onInterrupt: { [weak self] in await self?.interruptTurn(turnEnd, started: started) }) { [weak self] in
            guard let self else { return .stopped }
            let running: CodexRunning
            do {
                running = try await lifecycle.withLock { try await self.ensureRunning() }
            } catch {
                return .failed((error as? AdapterError)?.message ?? "\(error)")
            }
            if let exit = running.attach(turnEnd, started: started) {
                return .failed(Self.failureReason(exit, duringTurn: false))
            }
            // An interrupt that came before the turn was attached ended it already: then the
            // turn must not start on the server, where nobody would stop it.
            if turnEnd.value != nil {
                running.endTurn(.stopped)
                return .stopped
            }
            let model = state.withLock { $0.model }
            if let model { running.mapper.withLock { $0.model = model } }
            var params: [String: JSONValue] = [
                "threadId": .string(running.threadId ?? ""),
                "input": .array([.object(["type": .string("text"), "text": .string(text), "text_elements": .array([])])]),
            ]
            if let model { params["model"] = .string(model) }
            guard let connection = running.connection else { return .stopped }
            if case .failure(let error) = await connection.request("turn/start", .object(params), timeout: requestTimeout) {
                running.endTurn(.stopped)
                if Task.isCancelled { return .stopped }
                return .failed("Codex did not start the turn: \(error.message)")
            }
            return await turnEnd.wait() ?? .stopped
        }
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model.isEmpty ? nil : model }
    }

    func interrupt() async throws {
        await turns.interrupt()
    }

    /// Interrupts the turn once it started on the server, stops its commands, and kills the
    /// process group when the server does not end the turn within the grace.
    private func interruptTurn(_ turnEnd: OneShot<TurnOutcome>, started: OneShot<String>) async {
        await lifecycle.withLock {
            guard turnEnd.value == nil else { return }
            guard let running = state.withLock({ $0.current }), let connection = running.connection,
                  let threadId = running.threadId, running.hasTurn
            else {
                turnEnd.set(.stopped)
                return
            }
            if let turnId = await started.wait(within: grace), !turnId.isEmpty {
                let interrupt: JSONValue = .object(["threadId": .string(threadId), "turnId": .string(turnId)])
                _ = await connection.request("turn/interrupt", interrupt, timeout: grace)
                _ = await connection.request("thread/backgroundTerminals/clean", .object(["threadId": .string(threadId)]), timeout: grace)
                if await turnEnd.wait(within: grace) != nil { return }
            } else if turnEnd.value != nil {
                return
            }
            // The server did not start or end the turn in time: kill it; the next message
            // starts a new process that resumes the thread.
            await running.kill()
            for message in running.mapper.withLock({ $0.closeOpenItems("Interrupted") }) { eventChannel.emit(message) }
            state.withLock { s in if s.current === running { s.current = nil } }
            running.endTurn(.stopped)
            turnEnd.set(.stopped)
        }
    }

    func dispose() async {
        await turns.dispose { [self] in
            await lifecycle.withLock {
                let running = state.withLock { s -> CodexRunning? in
                    defer { s.current = nil }
                    return s.current
                }
                await running?.retire(stopSequence)
            }
        }
    }

    // MARK: - Processes

    /// The process for the next turn: the current one while it lives, else a new one that
    /// resumes the session's thread (or starts one). Called under ``lifecycle``.
    private func ensureRunning() async throws -> CodexRunning {
        try turns.checkNotDisposed()
        let (options, model, current) = state.withLock { ($0.options, $0.model, $0.current) }
        guard let options else { throw AdapterError(.invalidState, "The codex adapter was not started.") }
        if let current {
            if current.isUsable { return current }
            state.withLock { s in if s.current === current { s.current = nil } }
            await current.retire(stopSequence)
        }
        let running = CodexRunning()
        let process = state.withLock { s -> Int in
            s.processes += 1
            return s.processes
        }
        running.process = process
        let fallback = CodexServerRequests.policyDecider(approvalPolicy: settings.approvalPolicy) { [weak self] text in
            self?.eventChannel.emit(ChatMessage(type: .system, content: text))
        }
        running.requests = CodexServerRequests(
            decider: CodexServerRequests.askingDecider(channel: eventChannel, process: process, fallback: fallback),
            respond: { [weak running] id, answer in
                switch answer {
                case .success(let result): running?.connection?.respond(to: id, result: result)
                case .failure(let error): running?.connection?.respond(to: id, errorCode: error.code ?? -32603, message: error.message)
                }
            }
        )
        let launch = CodexLaunch.make(settings: settings, options: options, hostEnvironment: hostEnvironment)
        var processOptions = AgentProcess.Options()
        processOptions.exitGrace = stopSequence.terminateGrace
        running.connection = try await CodexConnection.start(launch, options: processOptions, handler: .init(
            incoming: { [weak self, weak running] incoming in
                guard let self, let running else { return }
                self.handle(incoming, from: running)
            },
            exited: { [weak self, weak running] exit in
                guard let self, let running else { return }
                self.exited(running, exit)
            }
        ))
        state.withLock { $0.current = running }
        do {
            try await handshake(running, options: options, model: model)
        } catch {
            state.withLock { s in if s.current === running { s.current = nil } }
            await running.retire(stopSequence)
            throw error
        }
        return running
    }

    /// `initialize`, `initialized`, the login check, and the thread: resumed or started.
    private func handshake(_ running: CodexRunning, options: StartOptions, model: String?) async throws(AdapterError) {
        guard let connection = running.connection else { throw AdapterError(.agentFailure, "codex app-server is gone.") }
        let initialize = await connection.request("initialize", CodexProtocol.initializeParams, timeout: requestTimeout)
        if case .failure(let error) = initialize {
            throw AdapterError(.agentFailure, "codex app-server did not initialize: \(error.message)")
        }
        connection.notify("initialized")
        if case .success(let account) = await connection.request("account/read", .object([:]), timeout: requestTimeout),
           CodexProtocol.isLoggedOut(account: account, environment: hostEnvironment.merging(settings.env) { $1 }) {
            throw AdapterError(.agentFailure, CodexProtocol.notLoggedIn)
        }
        let directory = CodexLaunch.threadDirectory(settings: settings, options: options, hostEnvironment: hostEnvironment)
        let params = CodexProtocol.threadParams(settings: settings, directory: directory, model: model)
        if let id = eventChannel.agentSessionId, !id.isEmpty {
            var resume = params
            resume["threadId"] = .string(id)
            switch await connection.request("thread/resume", .object(resume), timeout: requestTimeout) {
            case .failure(let error):
                throw AdapterError(.agentFailure, "Could not resume the Codex thread '\(id)': \(error.message)")
            case .success(let result):
                running.threadId = result["thread"]?["id"]?.stringValue ?? id
                running.mapper.withLock { $0.model = model ?? result["model"]?.stringValue }
            }
        } else {
            switch await connection.request("thread/start", .object(params), timeout: requestTimeout) {
            case .failure(let error):
                throw AdapterError(.agentFailure, "Codex did not start a thread: \(error.message)")
            case .success(let result):
                guard let id = result["thread"]?["id"]?.stringValue, !id.isEmpty else {
                    throw AdapterError(.agentFailure, "Codex started a thread without an id: \(result.jsonText.prefix(300))")
                }
                running.threadId = id
                running.mapper.withLock { $0.model = model ?? result["model"]?.stringValue }
            }
        }
    }

    /// One message from the server, on the reading task.
    private func handle(_ incoming: CodexConnection.Incoming, from running: CodexRunning) {
        switch incoming {
        case .request(let id, let method, let params):
            running.requests?.handle(id: id, method: method, params: params) { itemId in
                running.mapper.withLock { $0.openItem(itemId) }
            }
        case .notification(let method, let params):
            if let thread = params["threadId"]?.stringValue, let mine = running.threadId, thread != mine { return }
            if method == "serverRequest/resolved" {
                if let id = params["requestId"] {
                    // Cleared by the server (interrupt, turn end): no person answers it now.
                    eventChannel.withdraw(CodexServerRequests.decisionID(process: running.process, requestId: id), reason: .agent)
                    running.requests?.resolved(id)
                }
                return
            }
            let events = running.mapper.withLock { $0.map(method: method, params: params) }
            for event in events { apply(event, from: running) }
        }
    }

    private func apply(_ event: CodexEvent, from running: CodexRunning) {
        switch event {
        case .message(let message):
            eventChannel.emit(message)
        case .turnStarted(let turnId):
            guard running.turnStarted(turnId), let thread = running.threadId else { return }
            // The thread now has a rollout: it can be resumed, so it is the agent session id.
            eventChannel.emit(ChatMessage(type: .system, content: "Session started: \(thread.prefix(8))..."))
            eventChannel.setAgentSessionId(thread)
        case .turnEnded(let end):
            switch end {
            case .completed(var done):
                let skipped = running.skippedDuringTurn
                if skipped > 0 { done.extra["skippedLines"] = .int(skipped) }
                running.endTurn(.done(done))
            case .interrupted:
                running.endTurn(.stopped)
            case .failed(let error):
                running.endTurn(.error(error))
            }
        }
    }

    /// `running`'s process was reaped.
    private func exited(_ running: CodexRunning, _ exit: ProcessExit) {
        guard !running.retiring.load(ordering: .sequentiallyConsistent), running.hasTurn else {
            running.endTurn(.stopped)
            return
        }
        for message in running.mapper.withLock({ $0.closeOpenItems("The Codex process ended before this tool finished.") }) {
            eventChannel.emit(message)
        }
        running.endTurn(.failed(Self.failureReason(exit, duringTurn: true)))
    }

    static func failureReason(_ exit: ProcessExit, duringTurn: Bool) -> String {
        var reason = "codex app-server \(exit) \(duringTurn ? "during the turn" : "before the turn started")"
        reason += exit.stderrTail.isEmpty ? "." : ": " + exit.stderrTail.joined(separator: "\n")
        reason += "\nThe next message starts it again, resuming the thread."
        return reason
    }
}
