/// The state of a session's agent.
public enum SessionStatus: String, Sendable, Hashable, CaseIterable {
    /// Ready for a message.
    case idle
    /// Working on a turn.
    case running
    /// The last turn failed; the next message may be sent.
    case error
    /// The last turn was interrupted; the next message may be sent.
    case interrupted
}
