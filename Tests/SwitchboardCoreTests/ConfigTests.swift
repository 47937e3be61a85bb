import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

@Suite("Config file")
struct ConfigTests {
    func parse(_ json: String, in dir: TemporaryDirectory) throws(ConfigError) -> SwitchboardConfig {
        try SwitchboardConfig.parse(json, path: "test.json", baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
    }

    func issues(_ json: String) throws -> [String] {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            _ = try parse(json, in: dir)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test("A complete config is read, with paths relative to the file")
    func completeConfig() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let plugin = BuildProducts.plugin("ScriptedAdapter")
        let config = try parse("""
        {
          "pluginDirectories": ["\(BuildProducts.directory)"],
          "stateDirectory": "state",
          "messageBufferSize": 50,
          "messageBufferBytes": 65536,
          "containerPrefix": "ws-",
          "allowHostWorkspace": false,
          "agents": {
            "claude": {"plugin": "\(plugin)", "settings": {"binary": "/usr/bin/claude", "extraArgs": ["--x"], "id": 12345678901234567890}},
            "scripted": {"settings": {"turns": []}}
          }
        }
        """, in: dir)
        #expect(config.stateDirectory == dir.path + "/state")
        #expect(config.messageBufferSize == 50)
        #expect(config.messageBufferBytes == 65536)
        #expect(config.containerPrefix == "ws-")
        #expect(config.allowHostWorkspace == false)
        #expect(config.agents["claude"]?.plugin == plugin)
        // Settings pass through untouched, big numbers included.
        #expect(config.agents["claude"]?.settings["id"] == .number("12345678901234567890"))
        #expect(config.agents["scripted"]?.plugin == nil)
    }

    @Test("Defaults apply when keys are absent")
    func defaults() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try parse("{}", in: dir)
        #expect(config.pluginDirectories == [BuildProducts.directory])
        #expect(config.messageBufferSize == 1000)
        #expect(config.containerPrefix == "workspace-")
        #expect(config.allowHostWorkspace == nil)
        #expect(config.server.host == "127.0.0.1" && config.server.port == 7391 && config.server.token == nil)
        #expect(config.stateDirectory.hasSuffix("/.switchboard"))
    }

    @Test("Validation errors name the key path and the problem")
    func validationErrors() throws {
        #expect(try issues(#"{"agents":{"claude":{"plugin":"./libClaud.so"}}}"#) == ["agents.claude.plugin: file './libClaud.so' does not exist"])
        #expect(try issues(#"{"agents":{"claude":{"plugin":"libClaud.so"}}}"#) == ["agents.claude.plugin: file 'libClaud.so' is in none of the plugin directories (\(BuildProducts.directory))"])
        #expect(try issues(#"{"messageBufferSize":0,"allowHostWorkspace":"yes","pluginDirectories":"x"}"#) == [
            "pluginDirectories: must be an array of directory paths, not a string",
            "messageBufferSize: must be a whole number from 1 to 1000000, not 0",
            "allowHostWorkspace: must be true or false, not a string",
        ])
        #expect(try issues(#"{"agent":{}}"#) == ["agent: unknown key (known keys: agents, allowHostWorkspace, approvals, clientQueueLimit, cluster, containerPrefix, history, maxLiveSessions, messageBufferBytes, messageBufferSize, pluginDirectories, queueLimit, server, sessionIdleMinutes, stateDirectory, store)"])
        #expect(try issues(#"{"agents":{"Claude":{}}}"#) == ["agents.Claude: the agent type 'Claude' is not valid (use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit)"])
        #expect(try issues(#"{"agents":{"claude":{"settings":[1],"plugins":"x"}}}"#) == [
            "agents.claude.plugins: unknown key (known keys: callTimeoutSeconds, isolation, plugin, settings, turnTimeoutSeconds)",
            "agents.claude.settings: must be an object, not an array",
        ])
        #expect(try issues(#"{"pluginDirectories":["/nonexistent-dir"]}"#) == ["pluginDirectories[0]: directory '/nonexistent-dir' does not exist"])
        #expect(try issues("[1]") == ["the top level must be an object, not an array"])
        #expect(try issues(#"{"server":{"port":70000,"token":"short","defaultAgent":"Bad","tls":true}}"#) == [
            "server.tls: unknown key (known keys: allowedOrigins, defaultAgent, headerTimeoutSeconds, host, idleTimeoutSeconds, maxConnections, maxHeaderBytes, pingIntervalSeconds, port, token)",
            "server.port: must be a port number from 1 to 65535, not 70000",
            "server.token: must be a string of at least 16 characters",
            "server.defaultAgent: must be an agent type name, not \"Bad\"",
        ])
        #expect(try issues("{\"agents\": }") == ["not valid JSON: invalid JSON at byte 11: expected a value"] || (try issues("{\"agents\": }")).first?.hasPrefix("not valid JSON") == true)
    }

    @Test("A missing file is an error naming it")
    func missingFile() {
        #expect(throws: ConfigError(path: "/nonexistent/config.json", issues: [.init(keyPath: "", problem: "cannot read '/nonexistent/config.json': No such file or directory")])) {
            _ = try SwitchboardConfig.load(path: "/nonexistent/config.json", bundledPluginDirectory: "/")
        }
    }
}
