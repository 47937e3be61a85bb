/// The code of a Switchboard error: a name that can grow without breaking anyone's
/// `switch`, tied to its error type by `Domain` so codes of different errors never mix.
///
/// Each error type declares its codes in a constrained extension:
/// `extension ErrorCode where Domain == AdapterError { static var invalidSettings: Self { … } }`.
public struct ErrorCode<Domain>: Sendable, Hashable, CustomStringConvertible {
    /// The code's name, e.g. `invalidSettings`.
    public let name: String

    /// A code with this name.
    public init(_ name: String) { self.name = name }

    public var description: String { name }
}
