import SwitchboardCore

/// The rules for values the daemon reads from clients: session ids, and how outside text is
/// quoted in messages and logs.
enum InputRules {
    /// The longest client-chosen session id, in bytes.
    static let maximumSessionIdLength = 128

    /// Why `id` is not a valid client-chosen session id, or `nil` when it is: 1 to 128
    /// letters, digits, `.`, `_` and `-`, starting with a letter or digit.
    static func sessionIdProblem(_ id: String) -> String? {
        let valid = !id.isEmpty && id.utf8.count <= maximumSessionIdLength
            && id.unicodeScalars.first.map(isAlphanumeric) == true
            && id.unicodeScalars.allSatisfy(isNameCharacter)
        if valid { return nil }
        return "The session id \(quoted(id)) is not valid: use 1 to \(maximumSessionIdLength) letters, digits, '.', '_' and '-', starting with a letter or digit."
    }

    /// Why `id` cannot be a decision request id (1 to 128 name characters), or `nil`.
    static func requestIdProblem(_ id: String) -> String? {
        let valid = !id.isEmpty && id.utf8.count <= 128 && id.unicodeScalars.allSatisfy(isNameCharacter)
        return valid ? nil : "The request id \(quoted(id)) is not valid: request ids are 1 to 128 letters, digits, '.', '_' and '-'."
    }

    /// Why `id` cannot be a message's `clientMessageId` (1 to 128 bytes, no control
    /// characters), or `nil`.
    static func clientMessageIdProblem(_ id: String) -> String? {
        let valid = !id.isEmpty && id.utf8.count <= 128 && !id.unicodeScalars.contains { $0.properties.generalCategory == .control }
        return valid ? nil : "The clientMessageId \(quoted(id)) is not valid: use 1 to 128 characters without control characters."
    }

    /// Why `type` is not an agent type name a client may ask for, or `nil`.
    static func agentTypeProblem(_ type: String) -> String? {
        AgentTypeName.problem(with: type).map { _ in "The agent type \(quoted(type)) is not a valid agent type name." }
    }

    /// An ASCII letter or digit.
    static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }

    /// A character allowed in workspace names and session ids: a letter, a digit, `.`, `_`, `-`.
    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        isAlphanumeric(c) || c == "." || c == "_" || c == "-"
    }

    /// Outside text made safe for one log line or message (see ``InputText/escaped(_:limit:)``).
    static func escaped(_ text: String, limit: Int = 80) -> String { InputText.escaped(text, limit: limit) }

    /// `'text'`, escaped and cut as by ``escaped(_:limit:)``.
    static func quoted(_ text: String, limit: Int = 80) -> String { "'\(escaped(text, limit: limit))'" }
}
