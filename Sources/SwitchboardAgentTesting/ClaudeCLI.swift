import Foundation

/// Where tests find the real Claude Code CLI, and the environment that points it at a
/// ``MockAnthropicAPI``.
///
/// `.ci/install-claude` (run by `.ci/setup`) installs the binary from the
/// `claude-agent-sdk` wheel into a cache outside the repository. Tests use
/// `$SWITCHBOARD_CLAUDE_BINARY` when set, else that cache path. A missing binary is an
/// error with the command that installs it — never a silently skipped test.
public enum ClaudeCLI {
    /// The CLI version the tests were written against (bundled in claude-agent-sdk 0.2.184).
    public static let version = "2.1.327"

    /// `$SWITCHBOARD_CLAUDE_BINARY`, else `${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}/claude-<version>/claude`.
    public static var binaryPath: String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["SWITCHBOARD_CLAUDE_BINARY"], !path.isEmpty { return path }
        let cache = env["SWITCHBOARD_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache/switchboard"
        return "\(cache)/claude-\(version)/claude"
    }

    /// The binary's path.
    /// - Throws: ``MissingCLI`` naming the path and how to install it.
    public static func requireBinary() throws -> String {
        let path = binaryPath
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingCLI(path: path) }
        return path
    }

    /// The environment that makes the CLI talk to `api` only, with `home` as its home
    /// directory (where it keeps its transcripts, so `--resume` finds them).
    public static func environment(home: String, api: MockAnthropicAPI) -> [String: String] {
        [
            "HOME": home,
            "ANTHROPIC_BASE_URL": api.baseURL,
            "ANTHROPIC_API_KEY": "sk-ant-switchboard-test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
        ]
    }

    /// The claude binary is not installed where the tests look for it.
    public struct MissingCLI: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "The claude CLI \(version) is not at '\(path)'. Install it with `bash .ci/install-claude` (run by `bash .ci/setup`), or point SWITCHBOARD_CLAUDE_BINARY at a claude binary."
        }
    }
}
