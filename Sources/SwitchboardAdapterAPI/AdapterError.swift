/// An error an adapter reports: a code that can grow, and a full-sentence message.
public struct AdapterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; new codes may be added.
    public typealias Code = ErrorCode<AdapterError>

    /// The kind of failure.
    public var code: Code
    /// What happened, as a sentence a user can act on.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == AdapterError {
    /// The settings given to `create` are unusable.
    public static var invalidSettings: Self { Self("invalidSettings") }
    /// The adapter was asked to do something its state does not allow.
    public static var invalidState: Self { Self("invalidState") }
    /// The agent (its process, its server) failed.
    public static var agentFailure: Self { Self("agentFailure") }
    /// The backend is not implemented.
    public static var notImplemented: Self { Self("notImplemented") }
    /// The plugin broke the ABI contract (malformed JSON, a missing completion).
    public static var protocolViolation: Self { Self("protocolViolation") }
    /// Reported by a plugin across the C boundary.
    public static var plugin: Self { Self("plugin") }
}
