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
/// Unknown keys are refused, so a typo does not go unnoticed. ``SettingsReader`` does the
/// checking and words the errors the way every bundled plugin does.
struct EchoSettings: Sendable, Equatable {
    var prefix = ""
    var thinkMilliseconds = 0
    var wordDelayMilliseconds = 0
    var failOn: String?

    static let keys = ["failOn", "prefix", "thinkMs", "wordDelayMs"]

    /// Reads and checks the settings; every problem names its key.
    init(_ settings: JSONValue) throws(AdapterError) {
        let r = try SettingsReader(settings, known: Self.keys)
        prefix = try r.string("prefix") ?? prefix
        thinkMilliseconds = try r.integer("thinkMs", in: 0...3_600_000) ?? thinkMilliseconds
        wordDelayMilliseconds = try r.integer("wordDelayMs", in: 0...60_000) ?? wordDelayMilliseconds
        failOn = try r.nonEmptyString("failOn")
    }
}
