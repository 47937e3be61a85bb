/// What an adapter reports while it runs.
public enum AdapterEvent: Sendable, Hashable {
    /// A chat message for the session's clients.
    case message(ChatMessage)
    /// The status changed; carries the agent's own session id as far as it is known.
    case status(SessionStatus, agentSessionId: String?)
    /// Something failed outside a request (e.g. the agent process died).
    case error(String)
    /// The agent needs a person's decision; the host answers through
    /// ``AgentAdapter/answer(_:)`` with the request's id. Made by ``AdapterEventChannel/ask(_:)``.
    case decisionRequested(DecisionRequest)
    /// A request the agent no longer waits for (interrupted, the turn ended, the agent
    /// decided otherwise); an answer to it is refused.
    case decisionWithdrawn(id: String, reason: DecisionWithdrawal)
}

/// Why an adapter withdrew a ``DecisionRequest``.
public enum DecisionWithdrawal: String, Sendable, Hashable, CaseIterable {
    /// The turn was interrupted.
    case interrupt
    /// The turn ended (or failed) while the request was open.
    case turnEnded = "turn_end"
    /// The adapter was disposed.
    case dispose
    /// The agent itself closed the request (it timed out on its side, or went on without it).
    case agent

    /// Reads a reason from the wire; a reason this host does not know is ``agent``.
    public init(wireName: String) {
        self = DecisionWithdrawal(rawValue: wireName) ?? .agent
    }
}
