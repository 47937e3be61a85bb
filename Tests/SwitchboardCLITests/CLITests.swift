import Testing
import SwitchboardAdapterAPI
import SwitchboardTesting

/// Runs the built `switchboard` binary, as a user would.
@Suite("switchboard CLI")
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
        #expect(codex["pluginVersion"] == .string("0.1.0"))
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
}
