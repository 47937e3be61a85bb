import SwitchboardCore

/// Workspace names: `@host`, or letters, digits, `-`, `_` and `.`, at most 64 characters.
public enum WorkspaceName {
    /// The longest name allowed.
    public static let maximumLength = 64

    /// Why `name` is not a valid workspace name, or `nil` when it is.
    public static func problem(with name: String) -> String? {
        if name == hostWorkspaceName { return nil }
        if name.isEmpty { return "The workspace name is empty." }
        if name.count > maximumLength { return "The workspace name is longer than \(maximumLength) characters." }
        if !name.unicodeScalars.allSatisfy(InputRules.isNameCharacter) || name.hasPrefix(".") {
            return "The workspace name \(InputRules.quoted(name)) is not valid: use letters, digits, '-', '_' and '.', not starting with '.'."
        }
        return nil
    }
}
