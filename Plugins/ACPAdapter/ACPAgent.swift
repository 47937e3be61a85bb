import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardProcess
import Synchronization

/// Any Agent Client Protocol agent as a Switchboard backend: one agent process per session
/// (JSON-RPC over stdio, in a process group of its own), started when the session starts and
/// kept for its turns.
///
/// - The process is handshaken with `initialize` (the client capabilities the plugin
///   implements: file reads and writes, terminals), then gets its session: `session/resume`
///   or `session/load` when the session has an agent session id (whichever the agent
///   advertises; neither is a clear error), else `session/new` in the project directory.
///   The `mode` setting then selects a session mode. This starts at `start` and runs while
///   the person types; the first turn waits for it.
/// - Each message is one `session/prompt`; `session/update`s become chat messages
///   (``ACPUpdateMapper``), also those that come after the prompt's answer. The answer's
///   `stopReason` ends the turn: `end_turn` → `done` (a warning when nothing was said),
///   `cancelled` → `interrupted`, `refusal` → an error.
/// - Requests from the agent (permissions, files, terminals) are answered by
///   ``ACPClientSide``; a permission goes through the approvals pipeline.
/// - Interrupt sends `session/cancel` (the runner has withdrawn every pending permission, so
///   each is answered `cancelled`); if the turn has not ended within `interruptGraceSeconds`
///   the process group is killed, and the next message starts a new process that restores
///   the session.
/// - A model set with `setModel` is chosen with `session/set_config_option` (the agent's
///   model option) or the older `session/set_model` before the next turn; an agent with
///   neither has no model choice, which `setModel` says.
/// - Dispose closes stdin, waits, sends SIGTERM, waits, sends SIGKILL to the group, kills
///   every terminal, and returns once all of it has been reaped.
final class ACPAgent: ChannelBackedAdapter {
    /// What the body of a turn and its interrupt share.
    private final class TurnControl: Sendable {
        /// Set by interrupt: the body stops at its next step.
        let stopped = AtomicFlag()
        /// The process the prompt went to, once sent.
        let prompted = Mutex<ACPRunning?>(nil)
        /// Set when the prompt was answered (or failed).
        let ended = OneShot<Void>()
    }

    private struct State {
        var options: StartOptions?
        /// The model the session asked for; `nil` leaves the agent's own.
        var model: String?
        var current: ACPRunning?
        /// How many processes this adapter started.
        var processes = 0
        var warmUp: Task<Void, Never>?
        /// Whether the "no model choice" notice was given for the start option's model.
        var modelNoticeGiven = false
    }

    let settings: ACPSettings
    let eventChannel = AdapterEventChannel()
    private let turns: TurnRunner
    private let state = Mutex(State())
    /// Serialises what starts and stops processes: the warm-up, a turn's start, interrupt, dispose.
    private let lifecycle = AsyncLock()
    private let hostEnvironment: [String: String]

    init(settings: ACPSettings, hostEnvironment: [String: String] = ProcessLaunch.currentEnvironment()) {
        self.settings = settings
        self.hostEnvironment = hostEnvironment
        self.turns = TurnRunner(channel: eventChannel, agentName: "ACP")
    }

    private var grace: Duration { .milliseconds(settings.interruptGraceMilliseconds) }
    private var requestTimeout: Duration { .milliseconds(settings.requestTimeoutMilliseconds) }
    private var turnTimeout: Duration { .milliseconds(settings.turnTimeoutMilliseconds) }
    private var stopSequence: AgentProcess.StopSequence { .grace(.milliseconds(settings.shutdownGraceMilliseconds)) }

    /// The agent type served, for messages (`fast`).
    private var agentType: String { state.withLock { $0.options?.agentType } ?? "acp" }
    /// `The 'fast' agent (fast-agent-acp)`.
    private var agentName: String { "The '\(agentType)' agent (\(settings.binaryName))" }

    // MARK: - AgentAdapter

    func start(_ options: StartOptions) async throws {
        try turns.checkNotDisposed()
        if let container = options.containerName, !container.isEmpty {
            throw AdapterError(.notImplemented, "The ACP bridge runs agents on the host only; the workspace '\(options.workspaceName)' runs in the container '\(container)'. Use the host workspace for '\(options.agentType ?? "acp")'.")
        }
        if let project = options.projectPath, !project.isEmpty, !project.hasPrefix("/") {
            throw AdapterError(.invalidState, "The project path '\(project)' is not absolute; an ACP session needs an absolute working directory.")
        }
        let launch = ACPLaunch.make(settings: settings, options: options, hostEnvironment: hostEnvironment)
        _ = try launch.resolvedProgram()
        try launch.checkWorkingDirectory()
        state.withLock { s in
            s.options = options
            s.model = options.model.flatMap { $0.isEmpty ? nil : $0 }
        }
        // A session given to restore ran before: it is restorable as it is.
        if let id = options.agentSessionId, !id.isEmpty { eventChannel.setAgentSessionId(id) }
        // The agent starts while the person types (initialize takes seconds); the first turn
        // waits for it, and reports what went wrong.
        let warmUp = Task { [weak self] in
            guard let self else { return }
            _ = try? await self.lifecycle.withLock { try await self.ensureRunning() }
        }
        state.withLock { $0.warmUp = warmUp }
    }

    func sendMessage(_ text: String) async throws {
        let control = TurnControl()
        try turns.begin(onInterrupt: { [weak self] in await self?.interruptTurn(control) }) { [weak self] in
            guard let self else { return .stopped }
            let outcome = await self.runTurn(text, control)
            control.ended.set(())
            return outcome
        }
    }

    func setModel(_ model: String) async throws {
        try turns.checkNotDisposed()
        guard !model.isEmpty else {
            state.withLock { $0.model = nil }
            return
        }
        let running = try await lifecycle.withLock { try await ensureRunning() }
        guard let choice = running.setup.modelChoice else {
            throw AdapterError(.notImplemented, "\(agentName) has no model choice: it offers no model config option and no session/set_model, so the model '\(model)' cannot be chosen. Choose its model in its own configuration or in settings.extraArgs.")
        }
        if !choice.values.isEmpty && !choice.values.contains(model) {
            throw AdapterError(.invalidState, "\(agentName) offers no model '\(model)'; it offers: \(choice.values.joined(separator: ", ")).")
        }
        state.withLock { $0.model = model }
    }

    func interrupt() async throws {
        await turns.interrupt()
    }

    func dispose() async {
        await turns.dispose { [self] in
            let warmUp = state.withLock { $0.warmUp }
            warmUp?.cancel()
            await warmUp?.value
            await lifecycle.withLock {
                let running = state.withLock { s -> ACPRunning? in
                    defer { s.current = nil }
                    return s.current
                }
                await running?.retire(stopSequence)
            }
        }
    }

    // MARK: - Turns

    private func runTurn(_ text: String, _ control: TurnControl) async -> TurnOutcome {
        let running: ACPRunning
        do {
            running = try await lifecycle.withLock { try await self.ensureRunning() }
        } catch {
            if control.stopped.isSet { return .stopped }
            return .failed((error as? AdapterError)?.message ?? "\(error)")
        }
        guard !control.stopped.isSet, let connection = running.connection, let sessionId = running.sessionId else { return .stopped }
        if running.takeInfoTurn() { eventChannel.emit(ACPSessionInfo.message(running, agentType: agentType, cwd: workingDirectory)) }
        if let failure = await chooseModel(running, connection: connection, sessionId: sessionId) { return .failed(failure) }
        for message in running.mapper.withLock({ $0.beginTurn() }) { eventChannel.emit(message) }
        // Published before the last check, so that an interrupt either stops the turn here or
        // finds the process to cancel the prompt on.
        control.prompted.withLock { $0 = running }
        guard !control.stopped.isSet else { return .stopped }
        // The session has a conversation on the agent's side from now on: it can be restored.
        eventChannel.setAgentSessionId(sessionId)
        let skippedBefore = connection.skippedLines
        let result = await connection.request("session/prompt", ACPProtocol.promptParams(sessionId: sessionId, text: text),
                                              timeout: turnTimeout) { [weak self] _ in
            // On the reading task, before any later update: what was collected is delivered,
            // and updates from here on are the late ones.
            for message in running.mapper.withLock({ $0.endTurn() }) { self?.eventChannel.emit(message) }
        }
        let skipped = max(0, connection.skippedLines - skippedBefore)
        switch result {
        case .success(let answer):
            return ending(answer, running: running, skipped: skipped)
        case .failure(let error):
            let closing = running.mapper.withLock { mapper in
                var messages = mapper.endTurn()
                messages += mapper.closeOpenTools("The turn ended before this tool finished.")
                return messages
            }
            for message in closing { eventChannel.emit(message) }
            if control.stopped.isSet || error.reason == .cancelled { return .stopped }
            switch error.reason {
            case .exited:
                return .failed("\(error.message)\nThe next message starts \(settings.binaryName) again and restores the session.")
            case .timeout:
                // The agent may still be working: stop it; the next message restores the session.
                connection.notify("session/cancel", .object(["sessionId": .string(sessionId)]))
                await lifecycle.withLock { await self.discard(running) }
                return .failed("\(agentName) did not finish the turn within \(ACPConnection.describe(turnTimeout)) (settings.turnTimeoutSeconds); it was stopped.")
            default:
                if error.isAuthenticationRequired { return .failed(notSignedIn(error)) }
                return .failed("\(agentName) failed the turn: \(error.message)\(error.code.map { " (JSON-RPC error \($0))" } ?? "")")
            }
        }
    }

    /// How an answered prompt ends the turn.
    private func ending(_ answer: JSONValue, running: ACPRunning, skipped: Int) -> TurnOutcome {
        let reason = answer["stopReason"]?.stringValue ?? "end_turn"
        var extra: [String: JSONValue] = ["stopReason": .string(reason)]
        if let usage = answer["usage"], usage != .null { extra["usage"] = usage }
        let (context, spoke, setup) = running.mapper.withLock { ($0.contextUsage, $0.textChunks > 0 || $0.toolCalls > 0, $0.setup) }
        if let context { extra["context"] = context }
        if skipped > 0 { extra["skippedLines"] = .int(skipped) }
        let model = setup.currentModel ?? state.withLock { $0.model }
        switch ACPProtocol.StopReason(rawValue: reason) {
        case .cancelled:
            for message in running.mapper.withLock({ $0.closeOpenTools("Interrupted") }) { eventChannel.emit(message) }
            return .stopped
        case .refusal:
            return .failed("\(agentName) refused to go on with this turn (stopReason refusal).")
        case .maxTokens, .maxTurnRequests:
            let what = reason == "max_tokens" ? "its token limit" : "its limit of model requests for one turn"
            eventChannel.emit(ChatMessage(type: .system, content: "\(agentName) stopped: it reached \(what) (stopReason \(reason)).",
                                          extra: ["warning": .string(reason)]))
        case .endTurn, nil:
            if !spoke {
                let warning = "\(agentName) ended the turn without any output: no message and no tool call. Its model or provider may be failing quietly."
                eventChannel.emit(ChatMessage(type: .system, content: warning, extra: ["warning": .string("empty_turn")]))
                extra["warning"] = .string("empty_turn")
            }
        }
        return .done(model: model, extra: extra)
    }

    /// Chooses the session's model before a turn, when it differs from the agent's; a
    /// failure as a sentence.
    private func chooseModel(_ running: ACPRunning, connection: ACPConnection, sessionId: String) async -> String? {
        guard let model = state.withLock({ $0.model }) else { return nil }
        let setup = running.setup
        guard setup.currentModel != model else { return nil }
        let result: Result<JSONValue, ACPConnection.RPCError>
        switch setup.modelChoice {
        case nil:
            let notice = state.withLock { s -> Bool in
                defer { s.modelNoticeGiven = true }
                return !s.modelNoticeGiven
            }
            if notice {
                eventChannel.emit(ChatMessage(type: .system, content: "\(agentName) has no model choice, so the model '\(model)' was not applied; it uses its own."))
            }
            return nil
        case .configOption(let id, _)?:
            result = await connection.request("session/set_config_option", .object([
                "sessionId": .string(sessionId), "configId": .string(id), "value": .string(model),
            ]), timeout: requestTimeout)
            if case .success(let answer) = result, let options = ACPProtocol.ConfigOption.list(answer["configOptions"]) {
                running.mapper.withLock { $0.setup.configOptions = options }
            }
        case .setModel?:
            result = await connection.request("session/set_model", .object([
                "sessionId": .string(sessionId), "modelId": .string(model),
            ]), timeout: requestTimeout)
            if case .success = result { running.mapper.withLock { $0.setup.currentModelId = model } }
        }
        if case .failure(let error) = result { return "\(agentName) did not switch to the model '\(model)': \(error.message)" }
        // An agent that answered without the new state is taken at its word.
        if running.setup.currentModel != model, case .configOption(let id, _)? = setup.modelChoice {
            running.mapper.withLock { m in
                if let index = m.setup.configOptions.firstIndex(where: { $0.id == id }) { m.setup.configOptions[index].currentValue = .string(model) }
            }
        }
        return nil
    }

    /// Interrupts the turn: `session/cancel` once the prompt was sent, and the process group
    /// killed when the agent does not end the turn within the grace.
    private func interruptTurn(_ control: TurnControl) async {
        control.stopped.set()
        guard let running = control.prompted.withLock({ $0 }), let connection = running.connection,
              let sessionId = running.sessionId, control.ended.value == nil
        else { return }
        connection.notify("session/cancel", .object(["sessionId": .string(sessionId)]))
        if await control.ended.wait(within: grace) != nil { return }
        // The agent kept going: stop it; the next message starts a new process that restores the session.
        await lifecycle.withLock { await self.discard(running) }
    }

    /// Kills `running` and forgets it (the next turn starts a new process). Under ``lifecycle``.
    private func discard(_ running: ACPRunning) async {
        await running.kill()
        for message in running.mapper.withLock({ $0.closeOpenTools("Interrupted") }) { eventChannel.emit(message) }
        state.withLock { s in if s.current === running { s.current = nil } }
    }

    private func notSignedIn(_ error: ACPConnection.RPCError) -> String {
        "\(agentName) is not signed in or not configured: \(error.message) (JSON-RPC error -32000). Sign in or configure '\(settings.binary)' for the user Switchboard runs as (its environment: settings.env), then try again."
    }

    // MARK: - Processes

    private var workingDirectory: String {
        let options = state.withLock { $0.options }
        return options.map { ACPLaunch.workingDirectory(settings: settings, options: $0, hostEnvironment: hostEnvironment) } ?? "/"
    }

    /// The process for the next turn: the current one while it lives, else a new one that
    /// restores the session (or starts one). Called under ``lifecycle``.
    private func ensureRunning() async throws -> ACPRunning {
        try turns.checkNotDisposed()
        let (options, current) = state.withLock { ($0.options, $0.current) }
        guard let options else { throw AdapterError(.invalidState, "The ACP adapter was not started.") }
        if let current {
            if current.isUsable { return current }
            state.withLock { s in if s.current === current { s.current = nil } }
            await current.retire(stopSequence)
        }
        let number = state.withLock { s -> Int in
            s.processes += 1
            return s.processes
        }
        let running = ACPRunning(number: number)
        let launch = ACPLaunch.make(settings: settings, options: options, hostEnvironment: hostEnvironment)
        let cwd = ACPLaunch.workingDirectory(settings: settings, options: options, hostEnvironment: hostEnvironment)
        let files: ACPFileAccess
        do { files = try ACPFileAccess(root: cwd) } catch { throw AdapterError(.agentFailure, error.message) }
        let terminals = ACPTerminals(files: files, environment: launch.environment, stopGrace: stopSequence.terminateGrace)
        running.mapper.withLock { $0.terminalOutput = { [weak terminals] id in terminals?.terminal(id: id)?.snapshot.text } }
        running.clientSide = ACPClientSide(
            files: files, terminals: terminals, fileSystem: settings.fileSystem, terminal: settings.terminal,
            channel: eventChannel, process: number, commandTimeout: turnTimeout,
            withdraw: { [weak self] id in
                // `$/cancel_request` for a permission request: the agent no longer waits.
                self?.eventChannel.withdraw(Self.decisionID(process: number, requestId: id), reason: .agent)
            },
            decider: { [weak self, weak running] id, params in
                guard let self, let running else { return ACPPermissions.outcome(nil, options: []) }
                return await self.decide(id, params, on: running)
            },
            respond: { [weak running] id, result in
                switch result {
                case .success(let value): running?.connection?.respond(to: id, result: value)
                case .failure(let error): running?.connection?.respond(to: id, errorCode: error.code, message: error.message)
                }
            }
        )
        var processOptions = AgentProcess.Options()
        processOptions.exitGrace = stopSequence.terminateGrace
        running.connection = try await ACPConnection.start(launch, name: settings.binaryName, options: processOptions, handler: .init(
            incoming: { [weak self, weak running] incoming in
                guard let self, let running else { return }
                self.handle(incoming, from: running)
            },
            exited: { [weak self, weak running] exit in
                guard let self, let running, !running.retiring.load(ordering: .sequentiallyConsistent) else { return }
                for message in running.mapper.withLock({ $0.closeOpenTools("\(self.settings.binaryName) ended before this tool finished.") }) {
                    self.eventChannel.emit(message)
                }
            }
        ))
        state.withLock { $0.current = running }
        do {
            try await handshake(running, cwd: cwd)
        } catch {
            state.withLock { s in if s.current === running { s.current = nil } }
            await running.retire(stopSequence)
            throw error
        }
        return running
    }

    /// `initialize`, then the session: restored or new; then the mode.
    private func handshake(_ running: ACPRunning, cwd: String) async throws(AdapterError) {
        guard let connection = running.connection else { throw AdapterError(.agentFailure, "\(settings.binaryName) is gone.") }
        let initialize = await connection.request("initialize", ACPProtocol.initializeParams(
            fileSystem: settings.fileSystem, terminal: settings.terminal
        ), timeout: requestTimeout)
        let agent: ACPProtocol.Agent
        switch initialize {
        case .failure(let error):
            if error.isAuthenticationRequired { throw AdapterError(.agentFailure, notSignedIn(error)) }
            throw AdapterError(.agentFailure, "\(agentName) did not initialize: \(error.message)")
        case .success(let result):
            agent = ACPProtocol.Agent(initializeResult: result)
        }
        if let version = agent.protocolVersion, version != ACPProtocol.protocolVersion {
            throw AdapterError(.agentFailure, "\(agentName) speaks ACP version \(version); Switchboard speaks version \(ACPProtocol.protocolVersion).")
        }
        running.agent = agent
        let session: JSONValue
        if let id = eventChannel.agentSessionId, !id.isEmpty {
            let method: String
            if agent.resumeSession {
                method = "session/resume"
            } else if agent.loadSession {
                method = "session/load"
            } else {
                throw AdapterError(.notImplemented, "\(agentName) cannot restore the agent session '\(id)': it advertises neither session/resume (agentCapabilities.sessionCapabilities.resume) nor session/load (agentCapabilities.loadSession). Start a new session to talk to it.")
            }
            // The replay (plain session/updates before the answer) is the history the session
            // already shows: counted, not shown again.
            running.mapper.withLock { $0.replaying = true }
            let restored = await connection.request(method, .object([
                "sessionId": .string(id), "cwd": .string(cwd), "mcpServers": .array([]),
            ]), timeout: requestTimeout) { _ in running.mapper.withLock { $0.replaying = false } }
            running.mapper.withLock { $0.replaying = false }
            switch restored {
            case .failure(let error):
                if error.isAuthenticationRequired { throw AdapterError(.agentFailure, notSignedIn(error)) }
                throw AdapterError(.agentFailure, "\(agentName) could not restore the agent session '\(id)' with \(method): \(error.message)")
            case .success(let result):
                session = result
            }
            running.sessionId = id
            running.origin = method
        } else {
            switch await connection.request("session/new", .object(["cwd": .string(cwd), "mcpServers": .array([])]), timeout: requestTimeout) {
            case .failure(let error):
                if error.isAuthenticationRequired { throw AdapterError(.agentFailure, notSignedIn(error)) }
                throw AdapterError(.agentFailure, "\(agentName) did not start a session: \(error.message)")
            case .success(let result):
                guard let id = result["sessionId"]?.stringValue, !id.isEmpty else {
                    throw AdapterError(.agentFailure, "\(agentName) started a session without an id: \(result.jsonText.prefix(300))")
                }
                session = result
                running.sessionId = id
            }
        }
        running.mapper.withLock { $0.setup.read(session) }
        if let mode = settings.mode { try await selectMode(mode, running: running, connection: connection) }
    }

    /// Selects `mode` (the `mode` setting): the agent's mode config option, else `session/set_mode`.
    private func selectMode(_ mode: String, running: ACPRunning, connection: ACPConnection) async throws(AdapterError) {
        let setup = running.setup
        guard setup.currentMode != mode, let sessionId = running.sessionId else { return }
        if let option = setup.modeOption, option.values.contains(where: { $0.value == mode }) {
            let result = await connection.request("session/set_config_option", .object([
                "sessionId": .string(sessionId), "configId": .string(option.id), "value": .string(mode),
            ]), timeout: requestTimeout)
            switch result {
            case .failure(let error): throw AdapterError(.agentFailure, "\(agentName) did not select the mode '\(mode)' (settings.mode): \(error.message)")
            case .success(let answer):
                running.mapper.withLock { m in
                    if let options = ACPProtocol.ConfigOption.list(answer["configOptions"]) { m.setup.configOptions = options }
                    if let index = m.setup.configOptions.firstIndex(where: { $0.id == option.id }) { m.setup.configOptions[index].currentValue = .string(mode) }
                    m.setup.currentModeId = mode
                }
            }
            return
        }
        guard setup.modes.contains(mode) else {
            let offered = setup.modeOption?.values.map(\.value) ?? setup.modes
            throw AdapterError(.invalidSettings, "settings.mode: \(agentName) offers no mode '\(mode)' (its modes: \(offered.isEmpty ? "none" : offered.joined(separator: ", "))).")
        }
        let result = await connection.request("session/set_mode", .object(["sessionId": .string(sessionId), "modeId": .string(mode)]), timeout: requestTimeout)
        if case .failure(let error) = result {
            throw AdapterError(.agentFailure, "\(agentName) did not select the mode '\(mode)' (settings.mode): \(error.message)")
        }
        running.mapper.withLock { $0.setup.currentModeId = mode }
    }

    /// One message from the agent, on the reading task.
    private func handle(_ incoming: ACPConnection.Incoming, from running: ACPRunning) {
        switch incoming {
        case .notification(let method, let params):
            switch method {
            case "session/update":
                if let mine = running.sessionId, let theirs = params["sessionId"]?.stringValue, theirs != mine { return }
                let messages = running.mapper.withLock { $0.map(params["update"] ?? .null) }
                for message in messages { eventChannel.emit(message) }
            case "$/cancel_request":
                if let id = params["requestId"] { running.clientSide?.cancel(id) }
            default:
                break
            }
        case .request(let id, let method, let params):
            if method == "session/request_permission" {
                // The tool call is shown with its input before the question about it.
                for message in running.mapper.withLock({ $0.announce(params["toolCall"] ?? .null) }) { eventChannel.emit(message) }
            }
            running.clientSide?.handle(id: id, method: method, params: params)
        }
    }

    /// The decision request id of the agent's request `requestId` in process number
    /// `process`: unique within the adapter (agents number their requests from 0 in every
    /// process).
    static func decisionID(process: Int, requestId: JSONValue) -> String {
        "acp-\(process)-\(requestId.stringValue ?? requestId.jsonText)"
    }

    /// A permission request, decided by the approvals pipeline.
    private func decide(_ requestId: JSONValue, _ params: JSONValue, on running: ACPRunning) async -> JSONValue {
        let options = ACPPermissions.options(params)
        let toolCallId = params["toolCall"]?["toolCallId"]?.stringValue ?? ""
        let known = running.mapper.withLock { $0.toolKind(toolCallId) }
        let id = Self.decisionID(process: running.number, requestId: requestId)
        let request = ACPPermissions.decisionRequest(id: id, params: params, knownKind: known, root: running.clientSide?.files.root ?? "/")
        guard eventChannel.hostAnswersDecisions else {
            eventChannel.emit(ChatMessage(type: .system, content: "\(agentName) asked to run \(request.summary); refused, because this host does not answer decision requests."))
            return ACPPermissions.refusal(options: options)
        }
        return ACPPermissions.outcome(await eventChannel.ask(request), options: options)
    }
}
