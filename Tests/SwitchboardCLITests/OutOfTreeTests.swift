import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The promise to third parties: a backend built outside this package loads into the
/// already-built, unchanged `switchboard`. The binary is the one `swift test` built; its bytes
/// are compared before and after. The Swift example is built once per test run with
/// `swift build --package-path Examples/EchoAgent` (slow the first time: it compiles the SDK).
@Suite("Out-of-tree plugins load into the unchanged switchboard (slow: builds Examples/EchoAgent)", .tags(.slow))
struct OutOfTreeTests {
    let switchboard = BuildProducts.executable("switchboard")

    func run(_ arguments: String...) async throws -> ChildProcess.Result {
        try await ChildProcess.launch(switchboard, arguments, timeout: .seconds(60))
    }

    /// `agents --config F --json` lists `agentType` as loaded from `plugin`; returns its row.
    func expectLoaded(_ agentType: String, from plugin: String, config: String) async throws -> JSONValue {
        let result = try await run("agents", "--config", config, "--json")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let rows = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        let row = try #require(rows.first { $0["agentType"] == .string(agentType) }, "\(result.stdout)")
        #expect(row["status"] == .string("loaded"))
        #expect(row["plugin"] == .string(plugin))
        #expect(row["abiVersion"] == .int(1))
        return row
    }

    @Test("The Swift example, built as its own package, is listed by `agents`, inspected, and runs a turn")
    func swiftExample() async throws {
        let before = try BinaryFingerprint(switchboard)
        let built = try await EchoAgentBuild.once.value
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("config.json", """
        {"pluginDirectories": [], "agents": {"echo": {"plugin": "\(built.plugin)", "settings": {"prefix": "echo: ", "wordDelayMs": 1}}}}
        """)

        let row = try await expectLoaded("echo", from: built.plugin, config: config)
        #expect(row["displayName"] == .string("Echo agent (example)"))
        #expect(row["pluginVersion"] == .string("1.0.0"))
        #expect(row["toolchain"]?.stringValue?.hasPrefix("Swift") == true)

        let inspect = try await run("agents", "--inspect", built.plugin)
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("Agent type:      echo\n"))
        #expect(inspect.stdout.contains("Display name:    Echo agent (example)\n"))

        let messages = try await runTurnThroughSessionManager(config: config, agentType: "echo", text: "hello out there")
        let reply = messages.filter { $0.type == .assistant }.map(\.content).joined()
        #expect(reply == "echo: hello out there")
        #expect(messages.filter { $0.type == .assistant }.count == 4)  // streamed word by word
        #expect(messages.last { $0.type == .done }?.extra["model"] == .string("demo-model"))

        let after = try BinaryFingerprint(switchboard)
        #expect(after == before, "switchboard changed: \(before) → \(after)")
        print("switchboard: \(before), unchanged; the example took \(built.duration) to build.")
    }

    @Test("The Swift example's own tests run the shipped conformance suite on it, and it passes every check")
    func swiftExampleConforms() async throws {
        let result = try await EchoAgentTests.once.value
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Conformance of \(Repository.root)/Examples/EchoAgent/.build/"), "\(result.stdout)")
        #expect(result.stdout.contains("  10 passed, 0 failed, 0 not applicable"), "\(result.stdout)")
    }

    @Test("The plain-C example, compiled with the system C compiler, is listed by `agents` and runs a turn")
    func cExample() async throws {
        let before = try BinaryFingerprint(switchboard)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let plugin = dir.path + "/libEchoC.so"
        // The command Docs/Examples/CEchoPlugin/README.md shows, with the output in `dir`.
        let cc = try #require(ChildProcess.which("cc"), "no C compiler on PATH")
        let compile = try await ChildProcess.launch(cc, [
            "-std=c11", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-ISources/CSwitchboardABI/include",
            "-o", plugin, "Docs/Examples/CEchoPlugin/echo_plugin.c",
        ], currentDirectory: Repository.root, timeout: .seconds(120))
        #expect(compile.status == 0, "\(compile.stderr)")
        let config = try dir.write("config.json", """
        {"pluginDirectories": [], "agents": {"echo-c": {"plugin": "./libEchoC.so", "settings": {"prefix": "you said: "}}}}
        """)
        let row = try await expectLoaded("echo-c", from: plugin, config: config)
        #expect(row["toolchain"]?.stringValue?.hasPrefix("gcc") == true || row["toolchain"]?.stringValue?.hasPrefix("clang") == true)

        let messages = try await runTurnThroughSessionManager(config: config, agentType: "echo-c", text: "hello from C")
        #expect(messages.contains { $0.type == .assistant && $0.content == "you said: hello from C" })
        #expect(messages.last { $0.type == .done }?.extra["model"] == .string("demo-model"))

        let after = try BinaryFingerprint(switchboard)
        #expect(after == before, "switchboard changed: \(before) → \(after)")
    }
}
