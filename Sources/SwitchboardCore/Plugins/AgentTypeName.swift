/// The rule for agent type names: `[a-z0-9][a-z0-9._-]*`, at most 64 bytes.
public enum AgentTypeName {
    /// The longest name allowed, in bytes.
    public static let maximumLength = 64

    /// Why `name` is not a valid agent type, or `nil` when it is.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "the agent type is empty" }
        if name.utf8.count > maximumLength { return "the agent type '\(name)' is longer than \(maximumLength) bytes" }
        for (i, byte) in name.utf8.enumerated() {
            let ok: Bool
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): ok = true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): ok = i > 0
            default: ok = false
            }
            if !ok {
                return "the agent type '\(name)' is not valid (use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit)"
            }
        }
        return nil
    }
}
