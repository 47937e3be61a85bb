/// The code of a Switchboard error: a name that can grow without breaking anyone's
/// `switch`, tied to its error's domain by `Domain` so codes of different errors never mix.
///
/// Each domain declares its codes in a constrained extension:
/// `extension ErrorCode where Domain == AdapterErrorDomain { static var invalidSettings: Self { … } }`.
/// See ``SwitchboardError``.
public struct ErrorCode<Domain>: Sendable, Hashable, CustomStringConvertible {
    /// The code's name, e.g. `invalidSettings`.
    public let name: String

    /// A code with this name.
    public init(_ name: String) { self.name = name }

    public var description: String { name }
}
