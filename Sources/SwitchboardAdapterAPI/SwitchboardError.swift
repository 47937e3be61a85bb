/// The one shape of every Switchboard error: a code that can grow, a full-sentence message,
/// and optionally the error that caused it.
///
/// Each kind of failure is a `Domain` — an empty enum that only names it — with a typealias
/// for the error and its codes declared on ``ErrorCode``:
///
/// ```swift
/// public enum AdapterErrorDomain {}
/// public typealias AdapterError = SwitchboardError<AdapterErrorDomain>
/// extension ErrorCode where Domain == AdapterErrorDomain {
///     public static var invalidSettings: Self { Self("invalidSettings") }
/// }
/// ```
///
/// so `AdapterError(.invalidSettings, "…")`, `catch let e as AdapterError` and
/// `switch e.code { case .invalidSettings: … }` read as if each error were its own struct,
/// while the codes of different domains never mix.
public struct SwitchboardError<Domain>: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure; new codes may be added.
    public typealias Code = ErrorCode<Domain>

    /// The kind of failure.
    public var code: Code
    /// What happened, as a sentence a user can act on; it names the file, record or value.
    public var message: String
    /// The lower-level error this one reports, when there is one. It is not part of
    /// equality or hashing: two errors are equal when their code and message are.
    public var cause: (any Error)?

    /// An error with this code and message, and optionally its cause.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message.
    public var description: String { message }

    /// The code, the message and the cause, for logs.
    public var debugDescription: String {
        let base = "\(code): \(message)"
        guard let cause else { return base }
        return base + " (cause: \(String(reflecting: cause)))"
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.code == b.code && a.message == b.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}
