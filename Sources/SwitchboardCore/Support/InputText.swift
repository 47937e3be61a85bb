/// Text from outside (clients, agents, plugins) as it may appear in a log line or message.
public enum InputText {
    /// Outside text made safe for one log line or message: quotes, backslashes, newlines and
    /// other control characters escaped, cut to `limit` characters (saying how long it was).
    public static func escaped(_ text: String, limit: Int = 80) -> String {
        var out = ""
        var taken = 0
        for scalar in text.unicodeScalars {
            if taken == limit {
                return out + "…(\(text.utf8.count) bytes)"
            }
            taken += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

}
