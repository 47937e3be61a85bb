/// An error an adapter reports: a code that can grow, and a full-sentence message.
public struct AdapterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broad kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The settings given to `create` are unusable.
        public static let invalidSettings = Code("invalidSettings")
        /// The adapter was asked to do something its state does not allow.
        public static let invalidState = Code("invalidState")
        /// The agent (its process, its server) failed.
        public static let agentFailure = Code("agentFailure")
        /// The backend is not implemented.
        public static let notImplemented = Code("notImplemented")
        /// The plugin broke the ABI contract (malformed JSON, a missing completion).
        public static let protocolViolation = Code("protocolViolation")
        /// Reported by a plugin across the C boundary.
        public static let plugin = Code("plugin")
        public var description: String { name }
    }

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
