/// Reads a plugin's `settings` object and refuses what it cannot use, in one wording for
/// every plugin.
///
/// A plugin's settings init names the keys it takes and the keys it renamed, then reads each
/// key with a typed getter. Every getter returns `nil` when the key is absent, so a default
/// is one `??` away, and throws ``AdapterError`` with code
/// ``AdapterError/Code/invalidSettings`` when the value is unusable. Each message starts with
/// the key path and says what the value must be and what it was:
///
/// ```
/// settings: must be an object, not an array
/// settings.foo: unknown setting (known: binary, env, extraArgs)
/// settings.command: renamed to 'binary'
/// settings.env.PATH: must be a string, not a number
/// settings.extraArgs[2]: must be a string, not an object
/// settings.turnTimeoutSeconds: must be a number of seconds from 0 to 86400, not -1
/// ```
///
/// A value of the wrong kind is described by its kind ("not a string"); a number out of
/// range is quoted as it was written ("not -1").
///
/// ```swift
/// init(_ json: JSONValue) throws(AdapterError) {
///     let r = try SettingsReader(json, known: ["binary", "env"], renamed: ["command": "binary"])
///     binary = try r.nonEmptyString("binary") ?? "claude"
///     env = try r.environment("env") ?? [:]
/// }
/// ```
///
/// For a check of its own (a value from a fixed list, two keys that exclude each other), a
/// plugin throws ``invalid(_:_:)`` or ``invalid(_:mustBe:not:)`` so that its messages read
/// like the reader's.
public struct SettingsReader: Sendable {
    /// The key path of the object being read: `settings`, or `settings.<key>` for a nested one.
    public let path: String
    private let members: [String: JSONValue]

    /// Checks that `settings` is an object whose keys are all known.
    ///
    /// - Parameters:
    ///   - settings: The agent's `settings` value from the config.
    ///   - known: Every key the plugin takes.
    ///   - renamed: Keys the plugin used to take, each mapped to the key that replaced it; a
    ///     settings object that still uses one is refused with a message naming the new key.
    /// - Throws: ``AdapterError`` (`invalidSettings`) when `settings` is not an object, or has
    ///   a renamed or an unknown key (the first in alphabetical order).
    public init(_ settings: JSONValue, known: [String], renamed: [String: String] = [:]) throws(AdapterError) {
        try self.init(settings, path: "settings", known: known, renamed: renamed)
    }

    private init(_ value: JSONValue, path: String, known: [String], renamed: [String: String]) throws(AdapterError) {
        guard let members = value.objectValue else {
            throw AdapterError(.invalidSettings, "\(path): must be an object, not \(value.kindDescription)")
        }
        self.path = path
        self.members = members
        for key in members.keys.sorted() {
            if let newKey = renamed[key] {
                throw invalid(key, "renamed to '\(newKey)'")
            }
            if !known.contains(key) {
                let list = known.isEmpty ? "none" : known.sorted().joined(separator: ", ")
                throw invalid(key, "unknown setting (known: \(list))")
            }
        }
    }

    /// Reads a nested object, checking its keys like the top level does.
    ///
    /// Messages about its members carry the full key path, e.g. `settings.container.user: …`.
    /// - Returns: A reader for the object, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`) when the value is not an object or has a
    ///   renamed or an unknown key.
    public func object(_ key: String, known: [String], renamed: [String: String] = [:]) throws(AdapterError) -> SettingsReader? {
        guard let value = members[key] else { return nil }
        return try SettingsReader(value, path: keyPath(key), known: known, renamed: renamed)
    }

    /// The raw value of a key, or `nil` when it is absent, for a shape no getter reads.
    public func value(_ key: String) -> JSONValue? {
        members[key]
    }

    /// The full key path of a key of this object, e.g. `settings.env`, for messages that
    /// refer to another setting.
    public func keyPath(_ key: String) -> String {
        "\(path).\(key)"
    }

    /// An `invalidSettings` error about a key of this object, worded like the reader's own:
    /// `<key path>: <problem>`.
    ///
    /// `key` may carry an index or a member, e.g. `extraArgs[0]`.
    public func invalid(_ key: String, _ problem: String) -> AdapterError {
        AdapterError(.invalidSettings, "\(keyPath(key)): \(problem)")
    }

    /// An `invalidSettings` error for a value of the wrong kind, worded like the reader's
    /// own: `<key path>: must be <expected>, not <the value's kind>`, e.g.
    /// `settings.turns: must be an array of turns, not a string`.
    public func invalid(_ key: String, mustBe expected: String, not value: JSONValue) -> AdapterError {
        invalid(key, "must be \(expected), not \(value.kindDescription)")
    }

    /// An `invalidSettings` error about this object as a whole: `<path>: <problem>`.
    public func invalid(_ problem: String) -> AdapterError {
        AdapterError(.invalidSettings, "\(path): \(problem)")
    }

    /// An `invalidSettings` error for a value that must be a number in a range: a number is
    /// quoted as it was written (`not -1`, `not 1.5`), any other value named by its kind.
    func invalid(_ key: String, mustBe expected: String, notNumber value: JSONValue) -> AdapterError {
        guard case .number(let text) = value else { return invalid(key, mustBe: expected, not: value) }
        return invalid(key, "must be \(expected), not \(text)")
    }
}
