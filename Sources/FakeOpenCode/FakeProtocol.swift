import Foundation
import SwitchboardAdapterAPI

/// The OpenCode version whose protocol the fake speaks (`FAKE_OPENCODE_PROTOCOL`, `major.minor`):
///
/// | version | text deltas | permissions | questions | unknown request ids |
/// | --- | --- | --- | --- | --- |
/// | `1.0` (≤ 1.0.223) | in `message.part.updated` | `permission.updated`, `POST /session/:id/permissions/:pid` `{"response"}` | none | 200 `true` |
/// | `1.1` | in `message.part.updated` | `permission.asked`, `POST /permission/:id/reply` `{"reply","message"?}` | `question.asked` | 200 `true` |
/// | `1.2` (default) | `message.part.delta` | as 1.1 | as 1.1 | 200 `true` |
/// | `1.18` | `message.part.delta` | as 1.1; bash metadata `{command}`; frames carry `"id":"evt_…"` | as 1.1 | 404 `…NotFoundError`; an abort drops pending requests |
struct FakeProtocol: Sendable, Hashable, CustomStringConvertible {
    var major: Int
    var minor: Int

    init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Reads `1.2`; `nil` for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    func atLeast(_ major: Int, _ minor: Int) -> Bool { (self.major, self.minor) >= (major, minor) }

    /// `permission.updated` and the session-scoped reply route (OpenCode ≤ 1.0.223).
    var legacyPermissions: Bool { !atLeast(1, 1) }
    /// The question tool and its routes (OpenCode ≥ 1.1.7).
    var questions: Bool { atLeast(1, 1) }
    /// Unknown request ids answered with 404; pending requests dropped at an abort (1.15+).
    var strictRequests: Bool { atLeast(1, 15) }

    var description: String { "\(major).\(minor)" }
}

extension FakeOpenCodeOptions {
    /// The `permission` key of an `opencode.json`: `"ask"` (every tool) or
    /// `{"bash": "ask", "edit": "deny", …}`; `[:]` when the file or the key is missing.
    static func permissionConfig(atPath path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let config = try? JSONValue(parsing: text) else { return [:] }
        switch config["permission"] {
        case .string(let action)?: return ["*": action]
        case .object(let tools)?: return tools.compactMapValues(\.stringValue)
        default: return [:]
        }
    }

    /// What the config says for `tool`: `ask`, `deny` or `allow` (the default).
    func permission(for tool: String) -> String {
        permissions[tool] ?? permissions["*"] ?? "allow"
    }
}

/// OpenCode's wildcard match (`util/wildcard.ts`): `*` any run, `?` one character, and a
/// pattern ending in ` *` also matches without the trailing part (`ls *` matches `ls`).
func wildcardMatch(_ text: String, _ pattern: String) -> Bool {
    if pattern.hasSuffix(" *"), text == String(pattern.dropLast(2)) { return true }
    let t = Array(text), p = Array(pattern)
    var (ti, pi) = (0, 0)
    var star: Int?, mark = 0
    while ti < t.count {
        if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
            ti += 1
            pi += 1
        } else if pi < p.count, p[pi] == "*" {
            star = pi
            mark = ti
            pi += 1
        } else if let s = star {
            pi = s + 1
            mark += 1
            ti = mark
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
}
