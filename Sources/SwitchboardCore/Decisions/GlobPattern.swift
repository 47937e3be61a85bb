/// A shell-style pattern for approval rules: `*` matches any run of characters (slashes
/// included), `?` any one character, `\` makes the next character literal; everything else
/// matches itself, case-sensitively. The whole text must match: `git status*` matches
/// `git status --short`, not `sudo git status`.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Token: Sendable, Hashable {
        case literal(Character)
        case any
        case one
    }

    /// The pattern as written.
    public let text: String
    private let tokens: [Token]

    /// Parses `text`. A trailing lone `\` matches a backslash.
    public init(_ text: String) {
        self.text = text
        var tokens: [Token] = []
        var escaped = false
        for character in text {
            if escaped {
                tokens.append(.literal(character))
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "*": if tokens.last != .any { tokens.append(.any) }
            case "?": tokens.append(.one)
            default: tokens.append(.literal(character))
            }
        }
        if escaped { tokens.append(.literal("\\")) }
        self.tokens = tokens
    }

    public var description: String { text }

    /// The characters the pattern itself spells literally (for the rule engine's check
    /// that an allow rule does not match a command chained to something else).
    var literalText: String {
        String(tokens.compactMap { if case .literal(let c) = $0 { return c } else { return nil } })
    }

    /// Whether the whole of `subject` matches. Linear in practice: one backtracking point
    /// (the last `*`), so no pattern can make it explode.
    public func matches(_ subject: String) -> Bool {
        let s = Array(subject)
        var p = 0, i = 0
        var star: Int? = nil, resume = 0
        while i < s.count {
            if p < tokens.count {
                switch tokens[p] {
                case .any:
                    star = p
                    resume = i
                    p += 1
                    continue
                case .one:
                    p += 1
                    i += 1
                    continue
                case .literal(let c) where c == s[i]:
                    p += 1
                    i += 1
                    continue
                default:
                    break
                }
            }
            guard let starAt = star else { return false }
            p = starAt + 1
            resume += 1
            i = resume
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }
}
