extension SettingsReader {
    /// Reads a string, which may be empty.
    /// - Returns: The string, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`): `settings.<key>: must be a string, not a number`.
    public func string(_ key: String) throws(AdapterError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard let text = value.stringValue else { throw invalid(key, mustBe: "a string", not: value) }
        return text
    }

    /// Reads a string that must not be empty: a name, a command, a user.
    /// - Returns: The string, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`):
    ///   `settings.<key>: must be a non-empty string, not an empty string`.
    public func nonEmptyString(_ key: String) throws(AdapterError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard let text = value.stringValue else { throw invalid(key, mustBe: "a non-empty string", not: value) }
        guard !text.isEmpty else { throw invalid(key, "must be a non-empty string, not an empty string") }
        return text
    }

    /// Reads a boolean.
    /// - Returns: The flag, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`): `settings.<key>: must be true or false, not a string`.
    public func bool(_ key: String) throws(AdapterError) -> Bool? {
        guard let value = self.value(key) else { return nil }
        guard let flag = value.boolValue else { throw invalid(key, mustBe: "true or false", not: value) }
        return flag
    }

    /// Reads a whole number within `range`; `1000` is accepted, `1000.0` and `1e3` are not.
    /// - Returns: The number, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`):
    ///   `settings.<key>: must be a whole number from 0 to 60000, not -1`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws(AdapterError) -> Int? {
        guard let value = self.value(key) else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw invalid(key, mustBe: "a whole number from \(range.lowerBound) to \(range.upperBound)", notNumber: value)
        }
        return number
    }

    /// Reads a number of seconds within `range`; fractions are allowed (`0.25`).
    /// - Returns: The duration, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`):
    ///   `settings.<key>: must be a number of seconds from 0 to 86400, not -1`.
    public func seconds(_ key: String, in range: ClosedRange<Double>) throws(AdapterError) -> Duration? {
        guard let value = self.value(key) else { return nil }
        guard let number = value.doubleValue, range.contains(number) else {
            let bounds = "from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
            throw invalid(key, mustBe: "a number of seconds \(bounds)", notNumber: value)
        }
        return .seconds(number)
    }

    /// Reads an object of environment variables: each name non-empty and without `=` or NUL,
    /// each value a string.
    /// - Returns: The variables, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`), e.g.
    ///   `settings.env: must be an object of strings, not an array`,
    ///   `settings.env: 'A=B' is not a valid environment variable name`,
    ///   `settings.env.PATH: must be a string, not a number`.
    public func environment(_ key: String) throws(AdapterError) -> [String: String]? {
        guard let value = self.value(key) else { return nil }
        guard let members = value.objectValue else { throw invalid(key, mustBe: "an object of strings", not: value) }
        var variables: [String: String] = [:]
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, !name.contains("="), !name.utf8.contains(0) else {
                throw invalid(key, "'\(name)' is not a valid environment variable name")
            }
            guard let text = member.stringValue else { throw invalid("\(key).\(name)", mustBe: "a string", not: member) }
            variables[name] = text
        }
        return variables
    }

    /// Reads an array of strings, such as extra command-line arguments.
    /// - Returns: The strings, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`), e.g.
    ///   `settings.extraArgs: must be an array of strings, not a string`,
    ///   `settings.extraArgs[2]: must be a string, not an object`.
    public func stringArray(_ key: String) throws(AdapterError) -> [String]? {
        guard let value = self.value(key) else { return nil }
        guard let elements = value.arrayValue else { throw invalid(key, mustBe: "an array of strings", not: value) }
        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            guard let text = element.stringValue else { throw invalid("\(key)[\(index)]", mustBe: "a string", not: element) }
            strings.append(text)
        }
        return strings
    }

    /// Reads a file path: a non-empty string without NUL characters. The path is not
    /// resolved or checked for existence.
    /// - Returns: The path, or `nil` when the key is absent.
    /// - Throws: ``AdapterError`` (`invalidSettings`): `settings.<key>: must be a file path, not a number`
    ///   (or `not an empty string`, `not a string with a NUL character`).
    public func path(_ key: String) throws(AdapterError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard let text = value.stringValue else { throw invalid(key, mustBe: "a file path", not: value) }
        guard !text.isEmpty else { throw invalid(key, "must be a file path, not an empty string") }
        guard !text.utf8.contains(0) else { throw invalid(key, "must be a file path, not a string with a NUL character") }
        return text
    }

    /// A bound as people write it: `0`, `600`, `0.5`.
    private static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int(number)) }
        return String(number)
    }
}
