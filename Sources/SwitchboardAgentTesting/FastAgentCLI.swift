import Foundation

/// Where tests find fast-agent (`fast-agent-acp`, from the PyPI package fast-agent-mcp): a
/// real ACP agent, run against a ``MockChatCompletionsAPI`` through its `generic` provider.
///
/// `.ci/install-fast-agent` (run by `.ci/setup`) installs it into a Python 3.12 virtual
/// environment in the same cache as the claude and codex CLIs. Tests use
/// `$SWITCHBOARD_FAST_AGENT_BINARY` when set, else that cache path. A missing binary is an
/// error with the command that installs it — never a silently skipped test.
public enum FastAgentCLI {
    /// The fast-agent-mcp version the tests were written against.
    public static let version = "0.10.48"
    /// The model fast-agent is started with: `generic.<name>` sends `<name>` to the mock.
    public static let model = "generic.mock-model"

    /// `$SWITCHBOARD_FAST_AGENT_BINARY`, else `<cache>/fast-agent-<version>/bin/fast-agent-acp`.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_FAST_AGENT_BINARY"], !path.isEmpty { return path }
        return "\(CodexCLI.cacheDirectory)/fast-agent-\(version)/bin/fast-agent-acp"
    }

    /// The binary's path.
    /// - Throws: ``MissingCLI`` naming the path and how to install it.
    public static func requireBinary() throws -> String {
        let path = binaryPath
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingCLI(path: path) }
        return path
    }

    /// The arguments that run fast-agent against the mock: the model, its home (sessions live
    /// in `<home>/sessions`), and its shell tool (`execute`, routed to the client's terminals).
    public static func arguments(home: FastAgentHome, model: String = FastAgentCLI.model) -> [String] {
        ["--model", model, "--home", home.home, "--shell"]
    }

    /// The environment for fast-agent: the mock as its `generic` provider, with a fake key;
    /// the real providers' keys emptied, so a key on the host never reaches it.
    public static func environment(api: MockChatCompletionsAPI, home: FastAgentHome) -> [String: String] {
        [
            "GENERIC_BASE_URL": api.baseURL, "GENERIC_API_KEY": "sk-switchboard-test",
            "OPENAI_API_KEY": "", "ANTHROPIC_API_KEY": "", "HOME": home.path,
        ]
    }

    /// A fresh directory for one test: fast-agent's home, and a project directory (a fresh
    /// `cwd`: fast-agent remembers "always" permissions in `<cwd>/.fast-agent/`).
    public static func makeHome() throws -> FastAgentHome {
        let root = NSTemporaryDirectory() + "switchboard-fast-agent"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var template = Array("\(root)/home-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw CocoaError(.fileWriteUnknown) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let home = FastAgentHome(path: path)
        try FileManager.default.createDirectory(atPath: home.home, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home.project, withIntermediateDirectories: true)
        return home
    }

    /// fast-agent is not installed where the tests look for it.
    public struct MissingCLI: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "fast-agent-acp (fast-agent-mcp \(version)) is not at '\(path)'. Install it with `bash .ci/install-fast-agent` (run by `bash .ci/setup`; it needs Python 3.12), or point SWITCHBOARD_FAST_AGENT_BINARY at a fast-agent-acp."
        }
    }
}

/// The directories of one fast-agent test.
public struct FastAgentHome: Sendable {
    /// The directory holding both.
    public let path: String
    /// `<path>/home`: fast-agent's `--home` (its sessions are in `sessions/<id>/`).
    public var home: String { path + "/home" }
    /// `<path>/project`: the sessions' project directory.
    public var project: String { path + "/project" }

    /// The session ids fast-agent stored.
    public var storedSessions: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: home + "/sessions")) ?? []
    }

    /// Removes everything.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
