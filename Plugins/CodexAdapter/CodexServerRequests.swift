import SwitchboardAdapterAPI
import Synchronization

/// An approval Codex asks for: run a command, or change files.
///
/// The request itself names only the item; the command, its directory and the diff come
/// from the item's `item/started`, which always precedes it.
struct CodexApprovalRequest: Sendable, Equatable {
    /// What Codex wants to do.
    enum Kind: String, Sendable {
        /// `item/commandExecution/requestApproval`.
        case command
        /// `item/fileChange/requestApproval`.
        case fileChange
    }

    var kind: Kind
    /// The server's request id (its own id space, from 0).
    var requestId: JSONValue
    /// The item the approval is for (a `commandExecution` or `fileChange` id).
    var itemId: String
    /// The command line, for a command.
    var command: String?
    /// The command's working directory.
    var cwd: String?
    /// The file changes (`path`, `kind`, `diff` each), for a file change.
    var changes: JSONValue?
    /// Why Codex asks (e.g. `command failed; retry without sandbox?`).
    var reason: String?
    /// The plain decisions the server offers (`accept`, `acceptForSession`, `decline`,
    /// `cancel`); empty when it did not say.
    var availableDecisions: [String]
}

/// The answer to a ``CodexApprovalRequest``.
enum CodexApprovalDecision: String, Sendable {
    case accept, acceptForSession, decline, cancel
}

/// Answers every request the app-server sends the client — an unanswered one hangs the turn.
///
/// - Approvals (commands and file changes) go to the one decision point, ``Decider``;
///   ``policyDecider(approvalPolicy:notice:)`` is the decision until approvals reach users.
///   An acceptance the server did not offer is narrowed (``offered(_:in:)``).
/// - Every other request gets the well-formed refusal its method expects (no answers, no
///   tool result, a declined elicitation, no extra permissions), or a JSON-RPC error for a
///   method Switchboard does not know.
/// - Each request is answered from a task of its own, kept until it answered: a decider may
///   take its time (a person). `serverRequest/resolved` — the server cleared the request on
///   interrupt or at the turn's end — cancels a decision still pending; it is not answered.
final class CodexServerRequests: Sendable {
    /// Decides an approval.
    typealias Decider = @Sendable (CodexApprovalRequest) async -> CodexApprovalDecision
    /// Sends the answer to a request: its id, and a result or an error (code, message).
    typealias Responder = @Sendable (JSONValue, Result<JSONValue, CodexConnection.RPCError>) -> Void

    private struct State {
        var tasks: [JSONValue: Task<Void, Never>] = [:]
        var closed = false
    }

    private let decider: Decider
    private let respond: Responder
    private let state = Mutex(State())

    init(decider: @escaping Decider, respond: @escaping Responder) {
        self.decider = decider
        self.respond = respond
    }

    /// The decision until approvals reach users: under `never` Codex does not ask, and if it
    /// does the request is accepted; under `on-request` and `untrusted` nobody can be asked
    /// yet, so the request is declined and `notice` says so (the model is told it was
    /// rejected, and the turn goes on).
    static func policyDecider(approvalPolicy: String, notice: @escaping @Sendable (String) -> Void) -> Decider {
        { request in
            if approvalPolicy == "never" { return .accept }
            let what = request.kind == .command ? "run `\(request.command ?? "a command")`" : "change files"
            notice("Codex asked to \(what); declined, because approvals do not reach users yet (approvalPolicy '\(approvalPolicy)').")
            return .decline
        }
    }

    /// The decision of the people attached to the session: each approval becomes a decision
    /// request through `channel` (id `codex-<process>-<server id>`, unique within the
    /// adapter: server ids start at 0 in every process) — `Bash` with the command, or `Edit`
    /// with the files — offering `allow`, `allow_session` (when the server offers
    /// `acceptForSession`) and `deny`. `allow` → `accept`, `allow_session` → `acceptForSession`,
    /// `deny` (or a withdrawal) → `decline`: the model is told and the turn goes on. When the
    /// host does not answer decisions, `fallback` decides.
    static func askingDecider(channel: AdapterEventChannel, process: Int, fallback: @escaping Decider) -> Decider {
        { request in
            guard channel.hostAnswersDecisions else { return await fallback(request) }
            guard let answer = await channel.ask(decisionRequest(request, process: process)) else { return .decline }
            switch answer.decision {
            case Decision.allow: return .accept
            case Decision.allowSession: return .acceptForSession
            default: return .decline
            }
        }
    }

    /// The decision request id of server request `id` in process number `process`.
    static func decisionID(process: Int, requestId: JSONValue) -> String {
        "codex-\(process)-\(requestId.stringValue ?? requestId.jsonText)"
    }

    /// An approval as the host shows it.
    static func decisionRequest(_ request: CodexApprovalRequest, process: Int) -> DecisionRequest {
        var options = [Decision.allow]
        if request.availableDecisions.isEmpty || request.availableDecisions.contains(CodexApprovalDecision.acceptForSession.rawValue) {
            options.append(Decision.allowSession)
        }
        options.append(Decision.deny)
        let id = decisionID(process: process, requestId: request.requestId)
        switch request.kind {
        case .command:
            let command = request.command ?? "a command"
            var input: [String: JSONValue] = ["command": .string(command)]
            if let cwd = request.cwd { input["cwd"] = .string(cwd) }
            if let reason = request.reason { input["reason"] = .string(reason) }
            return DecisionRequest(id: id, toolName: "Bash", toolId: request.itemId, input: .object(input),
                                   summary: command, options: options, subject: request.command)
        case .fileChange:
            let paths = (request.changes?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
            var input: [String: JSONValue] = ["changes": request.changes ?? .array([])]
            if let reason = request.reason { input["reason"] = .string(reason) }
            let summary = paths.isEmpty ? "change files" : paths.joined(separator: ", ")
            return DecisionRequest(id: id, toolName: "Edit", toolId: request.itemId, input: .object(input),
                                   summary: summary, options: options, subject: paths.count == 1 ? paths[0] : nil)
        }
    }

    /// Requests still waiting for their answer.
    var pendingCount: Int { state.withLock { $0.tasks.count } }

    /// Answers `method` request `id`. `item` looks up an open item by id (for approvals).
    func handle(id: JSONValue, method: String, params: JSONValue, item: (String) -> JSONValue?) {
        let approval = Self.approval(id: id, method: method, params: params, item: item)
        guard let approval else {
            respond(id, Self.refusal(method: method))
            return
        }
        // Registered before it can run, so its answer always finds it.
        state.withLock { s in
            guard !s.closed else { return }
            s.tasks[id] = Task { [self] in
                let decision = Self.offered(await decider(approval), in: approval.availableDecisions)
                let stillOpen = state.withLock { s in s.tasks.removeValue(forKey: id) != nil }
                guard stillOpen, !Task.isCancelled else { return }
                respond(id, .success(.object(["decision": .string(decision.rawValue)])))
            }
        }
    }

    /// `serverRequest/resolved`: the server no longer waits for request `id`.
    func resolved(_ id: JSONValue) {
        state.withLock { $0.tasks.removeValue(forKey: id) }?.cancel()
    }

    /// Cancels every pending decision and waits for their tasks (the process is going away).
    func close() async {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.closed = true
            defer { s.tasks = [:] }
            return Array(s.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    // MARK: - The shapes

    /// The approval a request asks for, or `nil` when it is no approval.
    static func approval(id: JSONValue, method: String, params: JSONValue, item lookUp: (String) -> JSONValue?) -> CodexApprovalRequest? {
        let kind: CodexApprovalRequest.Kind
        switch method {
        case "item/commandExecution/requestApproval": kind = .command
        case "item/fileChange/requestApproval": kind = .fileChange
        default: return nil
        }
        let itemId = params["itemId"]?.stringValue ?? ""
        let item = lookUp(itemId)
        let offered = (params["availableDecisions"]?.arrayValue ?? []).compactMap(\.stringValue)
        var changes: JSONValue?
        if kind == .fileChange, let item { changes = CodexEventMapper.toolInput(item)["changes"] }
        return CodexApprovalRequest(
            kind: kind, requestId: id, itemId: itemId,
            command: params["command"]?.stringValue ?? item?["command"]?.stringValue,
            cwd: params["cwd"]?.stringValue ?? item?["cwd"]?.stringValue,
            changes: changes, reason: params["reason"]?.stringValue, availableDecisions: offered
        )
    }

    /// `decision` if the server offered it (or offered nothing); an acceptance it did not
    /// offer becomes the plain `accept` when offered, else `decline`. A refusal is always
    /// sent as decided: `decline` lets the turn go on (the model is told), `cancel` ends it.
    static func offered(_ decision: CodexApprovalDecision, in available: [String]) -> CodexApprovalDecision {
        guard !available.isEmpty, !available.contains(decision.rawValue) else { return decision }
        switch decision {
        case .acceptForSession where available.contains(CodexApprovalDecision.accept.rawValue): return .accept
        case .accept, .acceptForSession: return .decline
        case .decline, .cancel: return decision
        }
    }

    /// The well-formed refusal for a request that is not an approval.
    static func refusal(method: String) -> Result<JSONValue, CodexConnection.RPCError> {
        switch method {
        case "item/tool/requestUserInput":
            return .success(.object(["answers": .object([:])]))
        case "item/tool/call":
            return .success(.object([
                "contentItems": .array([.object(["type": .string("inputText"), "text": .string("unsupported")])]),
                "success": .bool(false),
            ]))
        case "mcpServer/elicitation/request":
            return .success(.object(["action": .string("decline"), "content": .null]))
        case "item/permissions/requestApproval":
            return .success(.object(["permissions": .object([:]), "scope": .string("turn")]))
        case "applyPatchApproval", "execCommandApproval":
            return .success(.object(["decision": .string("denied")]))
        default:
            return .failure(.init(code: -32601, message: "Switchboard does not support the request '\(method)'."))
        }
    }
}
