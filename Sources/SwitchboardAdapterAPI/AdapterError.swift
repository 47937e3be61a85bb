/// The domain of ``AdapterError``: failures an adapter reports.
public enum AdapterErrorDomain {}

/// An error an adapter reports: a code that can grow, and a full-sentence message.
///
/// The code crosses the plugin boundary: a plugin's `failed` event carries it (see
/// ``PluginEvent``), so the host sees the same code a plugin's adapter threw. A code the
/// host does not know arrives as itself; a failure without one arrives as ``ErrorCode/plugin``.
public typealias AdapterError = SwitchboardError<AdapterErrorDomain>

extension ErrorCode where Domain == AdapterErrorDomain {
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
    /// An answer named a decision request that is not open (answered, withdrawn, unknown).
    public static var unknownRequest: Self { Self("unknownRequest") }
    /// Reported by a plugin across the C boundary without a code of its own.
    public static var plugin: Self { Self("plugin") }

    /// The code named `name` when it is a short identifier — 1 to 64 ASCII letters, digits
    /// and `_`, starting with a letter — as a `code` key on the wire must be; else `nil`.
    public init?(wireName name: String) {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), Self.isLetter(bytes[0]),
              bytes.allSatisfy({ Self.isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") })
        else { return nil }
        self.init(name)
    }

    private static func isLetter(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }
}
