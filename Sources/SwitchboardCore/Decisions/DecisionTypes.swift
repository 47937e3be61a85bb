import SwitchboardAdapterAPI

/// A decision request the session manager holds for a person: the agent's request under an
/// id of the manager's own, which is stable across clients and unique across sessions.
public struct PendingDecision: Sendable, Hashable {
    /// The manager's id for it (`req-…`): what clients answer.
    public var requestId: String
    /// The session that asked.
    public var sessionId: String
    /// The session's agent type.
    public var agentType: String
    /// The agent's request (its ``DecisionRequest/id`` is the plugin's own).
    public var request: DecisionRequest
    /// When it was asked, in milliseconds since 1970.
    public var requestedAt: Int64
    /// When the timeout decides it, in milliseconds since 1970.
    public var expiresAt: Int64

    public init(requestId: String, sessionId: String, agentType: String, request: DecisionRequest, requestedAt: Int64, expiresAt: Int64) {
        self.requestId = requestId
        self.sessionId = sessionId
        self.agentType = agentType
        self.request = request
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
    }
}

/// Who or what decided a request.
public enum DecisionSource: Sendable, Hashable, CustomStringConvertible {
    /// A client: its connection id (`client-3`) or, over HTTP, `http`.
    case client(String)
    /// The operator's rule with this 1-based number.
    case rule(Int)
    /// The policy's default (`approvals.default` is `allow` or `deny`).
    case defaultPolicy
    /// Nobody answered within `approvals.timeoutSeconds`.
    case timeout
    /// The turn was interrupted.
    case interrupt
    /// The session was disposed (deleted, expired, the daemon stopping).
    case dispose
    /// The agent withdrew it, or its turn ended without it.
    case agent
    /// The daemon stopped before it was decided; found at the next start.
    case restart

    /// The wire's `by`: `client`, `rule`, `default`, `timeout`, `interrupt`, `dispose`,
    /// `agent` or `restart`.
    public var by: String {
        switch self {
        case .client: "client"
        case .rule: "rule"
        case .defaultPolicy: "default"
        case .timeout: "timeout"
        case .interrupt: "interrupt"
        case .dispose: "dispose"
        case .agent: "agent"
        case .restart: "restart"
        }
    }

    /// Who exactly: the client's connection id, `rule #2`; `nil` for the others.
    public var decider: String? {
        switch self {
        case .client(let id): id
        case .rule(let n): "rule #\(n)"
        default: nil
        }
    }

    public var description: String { decider ?? by }

    /// Reads the audit log's `by` and `decider` back.
    public init(by: String, decider: String?) {
        switch by {
        case "client": self = .client(decider ?? "unknown")
        case "rule": self = .rule(Int(decider?.split(separator: "#").last ?? "") ?? 0)
        case "default": self = .defaultPolicy
        case "timeout": self = .timeout
        case "interrupt": self = .interrupt
        case "dispose": self = .dispose
        case "restart": self = .restart
        default: self = .agent
        }
    }
}

/// How a request was closed: the `permission_resolved` / `question_resolved` frame.
public struct DecisionResolution: Sendable, Hashable {
    /// The manager's request id.
    public var requestId: String
    /// The session it belonged to.
    public var sessionId: String
    /// Permission or question.
    public var kind: DecisionRequest.Kind
    /// The tool it was about.
    public var toolName: String
    /// The request's one-line summary.
    public var summary: String
    /// The decision passed to the agent (`allow`, `allow_session`, `deny`, `answer`), or
    /// ``cancelled`` when none was: the request was withdrawn, interrupted or disposed.
    public var decision: String
    /// The message sent with a `deny`.
    public var message: String?
    /// A question's answers.
    public var answers: [String: String]
    /// Who decided.
    public var source: DecisionSource
    /// When, in milliseconds since 1970.
    public var resolvedAt: Int64

    /// The decision of a request closed without one reaching the agent.
    public static let cancelled = "cancelled"

    public init(requestId: String, sessionId: String, kind: DecisionRequest.Kind, toolName: String, summary: String,
                decision: String, message: String? = nil, answers: [String: String] = [:], source: DecisionSource, resolvedAt: Int64) {
        self.requestId = requestId
        self.sessionId = sessionId
        self.kind = kind
        self.toolName = toolName
        self.summary = summary
        self.decision = decision
        self.message = message
        self.answers = answers
        self.source = source
        self.resolvedAt = resolvedAt
    }
}

/// A frame about a decision request, as the session's clients receive it.
public enum DecisionFrame: Sendable, Hashable {
    /// A request waits for a person: `permission_request` or `question`.
    case requested(PendingDecision)
    /// A request was closed: `permission_resolved` or `question_resolved`.
    case resolved(DecisionResolution)

    /// A one-line text for clients that show only chat messages.
    public var text: String {
        switch self {
        case .requested(let pending):
            let what = pending.request.kind == .question ? "Question" : "Permission requested"
            return "\(what) (\(pending.requestId)): \(pending.request.toolName): \(pending.request.summary) [\(pending.request.options.joined(separator: "/"))]"
        case .resolved(let resolution):
            return "Request \(resolution.requestId) resolved: \(resolution.decision) by \(resolution.source)"
        }
    }
}
