import Foundation
import SwitchboardPluginSDK
import Testing
import SwitchboardAdapterAPI
import SwitchboardTesting

/// Runs the built `switchboard` binary, as a user would.
@Suite("switchboard CLI", .childProcessGate)
struct CLITests {
    func switchboard(_ arguments: String...) throws -> ChildProcess.Result {
        try ChildProcess.run(BuildProducts.executable("switchboard"), arguments)
    }

    @Test("`agents` lists the bundled plugins from the built .so files")
    func agentsTable() throws {
        let result = try switchboard("agents")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("TYPE") == true)
        #expect(lines.contains { $0.hasPrefix("codex ") && $0.contains("libCodexAdapter.so") && $0.hasSuffix("loaded") })
        #expect(lines.contains { $0.hasPrefix("scripted ") && $0.contains("libScriptedAdapter.so") && $0.contains(" 1 ") })
    }

    @Test("`agents --json` reports type, file, versions, ABI and status")
    func agentsJSON() throws {
        let result = try switchboard("agents", "--json")
        #expect(result.status == 0)
        let rows = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        let codex = try #require(rows.first { $0["agentType"] == .string("codex") })
        #expect(codex["status"] == .string("loaded"))
        #expect(codex["abiVersion"] == .int(1))
        #expect(codex["pluginVersion"] == .string("1.0.0"))
        #expect(codex["plugin"]?.stringValue?.hasSuffix("/libCodexAdapter.so") == true)
        #expect(codex["toolchain"]?.stringValue?.hasPrefix("Swift") == true)
    }

    @Test("A broken plugin is shown with its reason and the exit status is 1")
    func agentsWithBrokenPlugin() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("libBroken.so", "not a library")
        let config = try dir.write("config.json", """
        {"pluginDirectories": [".", "\(BuildProducts.directory)"]}
        """)
        let result = try switchboard("agents", "--config", config)
        #expect(result.status == 1)
        #expect(result.stdout.contains("failed: Plugin '\(dir.path)/libBroken.so' is not an ELF shared object."))
        #expect(result.stdout.contains("scripted"))
    }

    @Test("`config validate` accepts a good file and names every problem in a bad one")
    func configValidate() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let good = try dir.write("good.json", #"{"agents":{"codex":{}}}"#)
        let ok = try switchboard("config", "validate", good)
        #expect(ok.status == 0)
        #expect(ok.stdout == "Config '\(good)' is valid (1 agent entry: codex).\n")

        let bad = try dir.write("bad.json", #"{"agents":{"claude":{"plugin":"./libClaud.so"}},"messageBufferSize":-1}"#)
        let failed = try switchboard("config", "validate", bad)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("Config '\(bad)' has 2 problems:"))
        #expect(failed.stderr.contains("messageBufferSize: must be a whole number from 1 to 1000000, not -1"))
        #expect(failed.stderr.contains("agents.claude.plugin: file './libClaud.so' does not exist"))
    }

    // MARK: agents --inspect

    static let fixtureSource = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SwitchboardCoreTests/Fixtures/test_plugin.c").path

    @Test("`agents --inspect` prints a plugin's descriptor without creating an adapter")
    func inspect() throws {
        let path = BuildProducts.plugin("ScriptedAdapter")
        let result = try switchboard("agents", "--inspect", path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
        Plugin:          \(path)
        Agent type:      scripted
        Display name:    Scripted (for tests)
        Plugin version:  1.0.0
        ABI version:     1 (this host speaks 1)
        Struct size:     120 bytes (ABI 1 needs at least 104)
        Toolchain:       \(PluginInfo.swiftToolchain)
        Entry symbol:    switchboard_plugin_v1

        """)
    }

    @Test("`agents --inspect` says when a plugin serves the agent types the config names")
    func inspectConfiguredTypes() throws {
        let path = BuildProducts.plugin("ACPAdapter")
        let result = try switchboard("agents", "--inspect", path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Agent type:      acp\n"))
        #expect(result.stdout.hasSuffix("Serves:          the agent types the config names it for (agents.<type>.plugin)\n"), "\(result.stdout)")
        let json = try JSONValue(parsing: try switchboard("agents", "--inspect", path, "--json").stdout)
        #expect(json["servesConfiguredTypes"] == .bool(true))
    }

    @Test("`agents --inspect --json` reports the descriptor as JSON")
    func inspectJSON() throws {
        let result = try switchboard("agents", "--inspect", BuildProducts.plugin("CodexAdapter"), "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONValue(parsing: result.stdout)
        #expect(object["status"] == .string("loaded"))
        #expect(object["agentType"] == .string("codex"))
        #expect(object["displayName"] == .string("Codex"))
        #expect(object["pluginVersion"] == .string("1.0.0"))
        #expect(object["abiVersion"] == .int(1))
        #expect(object["structSize"] == .int(120))
        #expect(object["servesConfiguredTypes"] == .bool(false))
        #expect(object["minimumStructSize"] == .int(104))
        #expect(object["hostABIVersions"] == .array([.int(1)]))
        #expect(object["toolchain"]?.stringValue?.hasPrefix("Swift") == true)
    }

    @Test("`agents --inspect` explains a load failure and exits with status 1")
    func inspectFailure() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let text = try dir.write("libText.so", "not a library")
        let result = try switchboard("agents", "--inspect", text)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("Error: Plugin '\(text)' is not an ELF shared object.\nA plugin is an ELF shared library"), "\(result.stderr)")

        let v2 = dir.path + "/libV2.so"
        try CPluginCompiler.build(source: Self.fixtureSource, output: v2, defines: ["V2_ONLY"])
        let refused = try switchboard("agents", "--inspect", v2, "--json")
        #expect(refused.status == 1)
        let object = try JSONValue(parsing: refused.stdout)
        #expect(object["status"] == .string("failed"))
        #expect(object["code"] == .string("unsupportedABIVersion"))
        #expect(object["error"] == .string("Plugin '\(v2)' was built for ABI 2 (it exports 'switchboard_plugin_v2'); this host speaks ABI 1."))
        #expect(object["advice"]?.stringValue?.hasPrefix("Rebuild the plugin against this host's switchboard_abi.h") == true)

        let missing = try switchboard("agents", "--inspect", dir.path + "/libNope.so")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("does not exist.\nCheck the path"))
    }

    @Test("`agents --inspect` takes no --config")
    func inspectWithConfig() throws {
        let result = try switchboard("agents", "--inspect", "x.so", "--config", "c.json")
        #expect(result.status != 0)
        #expect(result.stderr.contains("--inspect reads one plugin file and takes no --config."))
    }
}
