import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

/// Answers every request the agent sends the client — an unanswered one hangs the turn.
///
/// - `session/request_permission` goes to ``Decider`` (the approvals pipeline).
/// - `fs/read_text_file` and `fs/write_text_file` go to ``ACPFileAccess`` (confined to the
///   project directory), `terminal/*` to ``ACPTerminals``; each is shown to the session's
///   clients as tool activity: a `tool_use` (`toolName` the method, `clientSide: true`) and a
///   `tool_result` with what happened or why it was refused.
/// - Anything else is refused with `-32601` (method not found); a capability the client did
///   not advertise (settings `fileSystem`, `terminal`) likewise.
/// - Each request is answered from a task of its own, kept until it answered, so a person or
///   a long command never blocks the reading of the agent's output. `$/cancel_request`
///   cancels one (a permission then goes back `cancelled`, anything else as error `-32800`);
///   ``close()`` cancels them all and waits for them, and kills every terminal.
final class ACPClientSide: Sendable {
    /// Decides a permission request: its params in, the result out.
    typealias Decider = @Sendable (_ requestId: JSONValue, _ params: JSONValue) async -> JSONValue
    /// Sends the answer to a request: its id, and a result or an error.
    typealias Responder = @Sendable (JSONValue, Result<JSONValue, ACPClientError>) -> Void

    private struct State {
        var tasks: [JSONValue: Task<Void, Never>] = [:]
        var methods: [JSONValue: String] = [:]
        var closed = false
        var activity = 0
    }

    let files: ACPFileAccess
    let terminals: ACPTerminals
    private let fileSystem: Bool
    private let terminal: Bool
    private let channel: AdapterEventChannel
    private let decider: Decider
    private let respond: Responder
    private let withdraw: @Sendable (JSONValue) -> Void
    /// Numbers this process's tool activity ids (`acp-<process>-fs-<n>`).
    private let process: Int
    private let commandTimeout: Duration
    private let state = Mutex(State())
    /// The terminals whose end was reported.
    private let reported = Mutex<Set<String>>([])

    init(files: ACPFileAccess, terminals: ACPTerminals, fileSystem: Bool, terminal: Bool, channel: AdapterEventChannel,
         process: Int, commandTimeout: Duration, withdraw: @escaping @Sendable (JSONValue) -> Void,
         decider: @escaping Decider, respond: @escaping Responder) {
        self.files = files
        self.terminals = terminals
        self.fileSystem = fileSystem
        self.terminal = terminal
        self.channel = channel
        self.process = process
        self.commandTimeout = commandTimeout
        self.decider = decider
        self.respond = respond
        self.withdraw = withdraw
    }

    /// Requests still waiting for their answer.
    var pendingCount: Int { state.withLock { $0.tasks.count } }

    /// Answers `method` request `id` (on a task of its own).
    func handle(id: JSONValue, method: String, params: JSONValue) {
        state.withLock { s in
            guard !s.closed else { return }
            s.tasks[id]?.cancel()
            s.methods[id] = method
            // Registered before it can run, so its end always finds it.
            s.tasks[id] = Task { [self] in
                let result = await answer(id: id, method: method, params: params)
                let stillOpen = state.withLock { s in
                    s.methods[id] = nil
                    return s.tasks.removeValue(forKey: id) != nil
                }
                guard stillOpen else { return }
                respond(id, result)
            }
        }
    }

    /// `$/cancel_request`: the agent no longer waits for request `id`. A permission request
    /// is withdrawn with reason `agent` (and answered `cancelled`); its task is cancelled
    /// too, so a request not yet shown to the host never waits. Anything else is cancelled
    /// (`-32800`).
    func cancel(_ id: JSONValue) {
        let (task, method) = state.withLock { ($0.tasks[id], $0.methods[id]) }
        if method == "session/request_permission" { withdraw(id) }
        task?.cancel()
    }

    /// Cancels every pending request, waits for their tasks, and kills every terminal (the
    /// process is going away).
    func close() async {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.closed = true
            s.methods = [:]
            defer { s.tasks = [:] }
            return Array(s.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await terminals.closeAll()
    }

    // MARK: - The methods

    private func answer(id: JSONValue, method: String, params: JSONValue) async -> Result<JSONValue, ACPClientError> {
        switch method {
        case "session/request_permission":
            return .success(await decider(id, params))
        case "fs/read_text_file", "fs/write_text_file":
            guard fileSystem else { return .failure(unsupported(method)) }
            return fileRequest(method, params)
        case "terminal/create", "terminal/output", "terminal/wait_for_exit", "terminal/kill", "terminal/release":
            guard terminal else { return .failure(unsupported(method)) }
            return await terminalRequest(method, params)
        default:
            return .failure(unsupported(method))
        }
    }

    private func unsupported(_ method: String) -> ACPClientError {
        ACPClientError(code: -32601, message: "Method not found: Switchboard does not offer '\(method)' to this agent.")
    }

    private static let cancelled = ACPClientError(code: -32800, message: "Cancelled")

    private func fileRequest(_ method: String, _ params: JSONValue) -> Result<JSONValue, ACPClientError> {
        let path = params["path"]?.stringValue ?? ""
        let toolId = nextActivityId("fs")
        let reading = method == "fs/read_text_file"
        var input: [String: JSONValue] = ["path": .string(path)]
        if reading {
            if let line = params["line"] { input["line"] = line }
            if let limit = params["limit"] { input["limit"] = limit }
        } else {
            input["bytes"] = .int(params["content"]?.stringValue?.utf8.count ?? 0)
        }
        channel.emit(ChatMessage(type: .toolUse, content: JSONValue.object(input).prettyText, toolName: method, toolId: toolId,
                                 extra: ["clientSide": .bool(true)]))
        do throws(ACPClientError) {
            if reading {
                let text = try files.read(path, line: params["line"]?.intValue, limit: params["limit"]?.intValue)
                emitResult(toolId, "Read \(text.utf8.count) bytes of \(path).", isError: false)
                return .success(.object(["content": .string(text)]))
            }
            guard let content = params["content"]?.stringValue else { throw .refused("fs/write_text_file needs the content to write.") }
            let written = try files.write(path, content: content)
            emitResult(toolId, "Wrote \(content.utf8.count) bytes to \(written).", isError: false)
            return .success(.object([:]))
        } catch {
            // A new file is read before it is written: not finding it is no error for people.
            emitResult(toolId, error.message, isError: error.code != -32002)
            return .failure(error)
        }
    }

    private func terminalRequest(_ method: String, _ params: JSONValue) async -> Result<JSONValue, ACPClientError> {
        do throws(ACPClientError) {
            switch method {
            case "terminal/create":
                let created = try await terminals.create(params)
                var input: [String: JSONValue] = ["command": .string(created.commandLine), "terminalId": .string(created.id)]
                if let cwd = params["cwd"]?.stringValue { input["cwd"] = .string(cwd) }
                channel.emit(ChatMessage(type: .toolUse, content: created.commandLine, toolName: "terminal", toolId: toolId(created),
                                         extra: ["clientSide": .bool(true), "input": .object(input)]))
                return .success(.object(["terminalId": .string(created.id)]))
            case "terminal/output":
                return .success(terminals.output(try terminals.terminal(params)))
            case "terminal/wait_for_exit":
                let terminal = try terminals.terminal(params)
                guard let exit = await terminal.process.waitForExit(within: commandTimeout) else {
                    throw Task.isCancelled ? Self.cancelled : .failed("The command '\(terminal.commandLine)' did not end within \(ACPConnection.describe(commandTimeout)).")
                }
                reportExit(terminal)
                return .success(ACPTerminals.exitStatus(exit))
            case "terminal/kill":
                let terminal = try terminals.terminal(params)
                await terminals.kill(terminal)
                reportExit(terminal)
                return .success(.object([:]))
            default:
                let terminal = try terminals.terminal(params)
                await terminals.release(terminal)
                reportExit(terminal)
                return .success(.object([:]))
            }
        } catch {
            if method == "terminal/create" {
                let toolId = nextActivityId("terminal")
                let command = params["command"]?.stringValue ?? ""
                channel.emit(ChatMessage(type: .toolUse, content: command, toolName: "terminal", toolId: toolId, extra: ["clientSide": .bool(true)]))
                emitResult(toolId, error.message, isError: true)
            }
            return .failure(error)
        }
    }

    /// The terminal's end as a `tool_result`, once (wait, kill and release may all report it).
    private func reportExit(_ terminal: ACPTerminals.Terminal) {
        guard let exit = terminal.process.exitStatus else { return }
        guard reported.withLock({ $0.insert(terminal.id).inserted }) else { return }
        let (output, truncated) = terminal.snapshot
        var extra: [String: JSONValue] = ["isError": .bool(!exit.isSuccess), "truncated": .bool(truncated)]
        switch exit.status {
        case .exited(let code): extra["exitCode"] = .int(Int(code))
        case .signaled(let signal): extra["signal"] = .int(Int(signal))
        }
        channel.emit(ChatMessage(type: .toolResult, content: output, toolId: toolId(terminal), extra: extra))
    }

    private func toolId(_ terminal: ACPTerminals.Terminal) -> String { "acp-\(process)-\(terminal.id)" }

    private func nextActivityId(_ kind: String) -> String {
        let n = state.withLock { s in
            s.activity += 1
            return s.activity
        }
        return "acp-\(process)-\(kind)-\(n)"
    }

    private func emitResult(_ toolId: String, _ text: String, isError: Bool) {
        channel.emit(ChatMessage(type: .toolResult, content: text, toolId: toolId, extra: ["isError": .bool(isError), "clientSide": .bool(true)]))
    }
}
