import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The bundled plugins' settings, through dlopen: one vocabulary, one wording, old keys
/// refused with the new name. Creating an adapter only reads the settings; nothing starts.
@Suite("Bundled plugins' settings")
struct PluginSettingsTests {
    /// The message the host reports when `plugin` refuses `settings` for `agentType`.
    static func refusal(_ plugin: String, _ agentType: String, _ reason: String) -> AdapterError {
        AdapterError(.invalidSettings, "Plugin 'lib\(plugin).so' could not create an adapter for '\(agentType)': \(reason)")
    }

    static func create(_ plugin: String, _ json: String) throws -> PluginAdapter {
        try PluginAdapter(plugin: try PluginLoader.load(BuildProducts.plugin(plugin)), settings: try JSONValue(parsing: json))
    }

    @Test("OpenCode: the shared keys are accepted, the old ones refused", arguments: [
        (#"{"command":"opencode"}"#, "settings.command: renamed to 'binary'"),
        (#"{"environment":{}}"#, "settings.environment: renamed to 'env'"),
        (#"{"env":{"A=B":"x"}}"#, "settings.env: 'A=B' is not a valid environment variable name"),
        (#"{"env":{"PATH":1}}"#, "settings.env.PATH: must be a string, not a number"),
        (#"{"turnTimeoutSeconds":-1}"#, "settings.turnTimeoutSeconds: must be a number of seconds from 0 to 86400, not -1"),
        (#"{"binary":""}"#, "settings.binary: must be a non-empty string, not an empty string"),
        (#"{"username":"u"}"#, "settings.username: needs settings.password (the server only checks credentials when a password is set)"),
        (#"{"colour":"red"}"#, "settings.colour: unknown setting (known: binary, docker, env, hostname, password, readyTimeoutSeconds, turnTimeoutSeconds, username)"),
    ])
    func openCode(json: String, reason: String) throws {
        #expect(throws: Self.refusal("OpenCodeAdapter", "opencode", reason)) { try Self.create("OpenCodeAdapter", json) }
    }

    @Test("OpenCode: an adapter is created from the shared keys")
    func openCodeAccepts() async throws {
        let adapter = try Self.create("OpenCodeAdapter", #"{"binary":"opencode","env":{"A":"b"},"docker":"docker","turnTimeoutSeconds":0.5}"#)
        await adapter.dispose()
    }

    @Test("Codex: the shared wording, and an adapter from the shared keys")
    func codex() async throws {
        #expect(throws: Self.refusal("CodexAdapter", "codex", "settings.model: unknown setting (known: approvalPolicy, binary, containerBinary, containerUser, containerWorkdir, docker, env, extraArgs, interruptGraceSeconds, requestTimeoutSeconds, sandbox, shutdownGraceSeconds)")) {
            try Self.create("CodexAdapter", #"{"model":"x"}"#)
        }
        #expect(throws: Self.refusal("CodexAdapter", "codex", "settings: must be an object, not an array")) {
            try Self.create("CodexAdapter", "[]")
        }
        let adapter = try Self.create("CodexAdapter", #"{"binary":"codex","env":{"A":"b"},"docker":"docker","interruptGraceSeconds":0.5}"#)
        await adapter.dispose()
    }

    @Test("Scripted: the shared wording", arguments: [
        (#"{"loop":1}"#, "settings.loop: must be true or false, not a number"),
        (#"{"startFailure":false}"#, "settings.startFailure: must be a string, not a boolean"),
        (#"{"script":""}"#, "settings.script: must be a file path, not an empty string"),
        (#"[]"#, "settings: must be an object, not an array"),
    ])
    func scripted(json: String, reason: String) throws {
        #expect(throws: Self.refusal("ScriptedAdapter", "scripted", reason)) { try Self.create("ScriptedAdapter", json) }
    }
}
