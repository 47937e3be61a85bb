import SwitchboardAdapterAPI

/// One row of the audit log: a decision request, what was decided, by whom and when.
public struct DecisionRecord: Sendable, Hashable {
    /// Where a request is in its life.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting for a person.
        case pending
        /// Closed with a decision (or cancelled by an interrupt or the agent).
        case resolved
        /// Closed because its session went away (disposed, the daemon stopped or crashed).
        case expired
    }

    /// The manager's request id.
    public var id: String
    /// The session that asked.
    public var sessionId: String
    /// Its agent type.
    public var agentType: String
    /// Permission or question.
    public var kind: DecisionRequest.Kind
    /// The tool.
    public var toolName: String
    /// The agent's tool-call id.
    public var toolId: String?
    /// The one-line summary.
    public var summary: String
    /// The tool's input, as JSON text.
    public var input: String
    /// The options the agent accepted.
    public var options: [String]
    /// Pending, resolved or expired.
    public var state: State
    /// The decision, once closed (``DecisionResolution/cancelled`` when none reached the agent).
    public var decision: String?
    /// ``DecisionSource/by`` of who closed it.
    public var decidedBy: String?
    /// ``DecisionSource/decider``: a client's connection id, `rule #n`.
    public var decider: String?
    /// The message sent with a deny.
    public var message: String?
    /// A question's answers.
    public var answers: [String: String]
    /// When it was asked, in milliseconds since 1970.
    public var requestedAt: Int64
    /// When it was closed.
    public var resolvedAt: Int64?

    public init(
        id: String, sessionId: String, agentType: String, kind: DecisionRequest.Kind, toolName: String, toolId: String? = nil,
        summary: String, input: String = "{}", options: [String], state: State = .pending, decision: String? = nil,
        decidedBy: String? = nil, decider: String? = nil, message: String? = nil, answers: [String: String] = [:],
        requestedAt: Int64, resolvedAt: Int64? = nil
    ) {
        self.id = id
        self.sessionId = sessionId
        self.agentType = agentType
        self.kind = kind
        self.toolName = toolName
        self.toolId = toolId
        self.summary = summary
        self.input = input
        self.options = options
        self.state = state
        self.decision = decision
        self.decidedBy = decidedBy
        self.decider = decider
        self.message = message
        self.answers = answers
        self.requestedAt = requestedAt
        self.resolvedAt = resolvedAt
    }

    /// The record of a request as it is asked.
    public init(_ pending: PendingDecision) {
        self.init(
            id: pending.requestId, sessionId: pending.sessionId, agentType: pending.agentType, kind: pending.request.kind,
            toolName: pending.request.toolName, toolId: pending.request.toolId, summary: pending.request.summary,
            input: pending.request.input.jsonText, options: pending.request.options, requestedAt: pending.requestedAt
        )
    }

    /// This record closed by `resolution`: `expired` when its session went away, else `resolved`.
    public func closed(by resolution: DecisionResolution) -> DecisionRecord {
        var record = self
        switch resolution.source {
        case .dispose, .restart: record.state = .expired
        default: record.state = .resolved
        }
        record.decision = resolution.decision
        record.decidedBy = resolution.source.by
        record.decider = resolution.source.decider
        record.message = resolution.message
        record.answers = resolution.answers
        record.resolvedAt = resolution.resolvedAt
        return record
    }

    /// Who closed it, read back; `nil` while pending.
    public var source: DecisionSource? {
        decidedBy.map { DecisionSource(by: $0, decider: decider) }
    }
}

/// What an audit-log query returns.
public struct DecisionQuery: Sendable, Hashable {
    /// Only this session's requests.
    public var sessionId: String?
    /// Only requests in this state.
    public var state: DecisionRecord.State?
    /// At most this many, newest first.
    public var limit: Int

    public init(sessionId: String? = nil, state: DecisionRecord.State? = nil, limit: Int = 100) {
        self.sessionId = sessionId
        self.state = state
        self.limit = limit
    }

    /// The largest `limit`.
    public static let maximumLimit = 5000
}
