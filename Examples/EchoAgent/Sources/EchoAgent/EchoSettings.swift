import SwitchboardAdapterAPI

/// The plugin's settings: the agent's `settings` object in the host's config file.
///
/// | Key | Type | Default | Meaning |
/// |---|---|---|---|
/// | `prefix` | string | `""` | Put in front of every reply. |
/// | `thinkMs` | integer 0…3600000 | `0` | How long a turn "thinks" before it replies; interruptible. |
/// | `wordDelayMs` | integer 0…60000 | `0` | Stream the reply word by word, this long between words. |
/// | `failOn` | non-empty string | none | A message containing it ends its turn in an error. |
///
/// Unknown keys are refused, so a typo does not go unnoticed.
struct EchoSettings: Sendable, Equatable {
    var prefix = ""
    var thinkMilliseconds = 0
    var wordDelayMilliseconds = 0
    var failOn: String?

    static let keys = ["failOn", "prefix", "thinkMs", "wordDelayMs"]

    /// Reads and checks the settings; every problem names its key.
    init(_ settings: JSONValue) throws(AdapterError) {
        guard let object = settings.objectValue else {
            throw AdapterError(.invalidSettings, "settings must be an object, not \(settings.kindDescription)")
        }
        for key in object.keys.sorted() where !Self.keys.contains(key) {
            throw AdapterError(.invalidSettings, "settings.\(key): unknown setting (known: \(Self.keys.joined(separator: ", ")))")
        }
        if let value = object["prefix"] {
            guard let text = value.stringValue else {
                throw AdapterError(.invalidSettings, "settings.prefix: must be a string, not \(value.kindDescription)")
            }
            prefix = text
        }
        thinkMilliseconds = try Self.milliseconds(object, "thinkMs", maximum: 3_600_000)
        wordDelayMilliseconds = try Self.milliseconds(object, "wordDelayMs", maximum: 60_000)
        if let value = object["failOn"] {
            guard let text = value.stringValue, !text.isEmpty else {
                throw AdapterError(.invalidSettings, "settings.failOn: must be a non-empty string, not \(value.kindDescription == "a string" ? "an empty string" : value.kindDescription)")
            }
            failOn = text
        }
    }

    private static func milliseconds(_ object: [String: JSONValue], _ key: String, maximum: Int) throws(AdapterError) -> Int {
        guard let value = object[key] else { return 0 }
        guard let number = value.intValue, number >= 0, number <= maximum else {
            throw AdapterError(.invalidSettings, "settings.\(key): must be a whole number of milliseconds from 0 to \(maximum), not \(value.jsonText)")
        }
        return number
    }
}
