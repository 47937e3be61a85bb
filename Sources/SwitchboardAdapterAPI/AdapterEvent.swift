/// What an adapter reports while it runs.
public enum AdapterEvent: Sendable, Hashable {
    /// A chat message for the session's clients.
    case message(ChatMessage)
    /// The status changed; carries the agent's own session id as far as it is known.
    case status(SessionStatus, agentSessionId: String?)
    /// Something failed outside a request (e.g. the agent process died).
    case error(String)
}
