import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// An in-process adapter for registry tests: it only remembers how it was made.
final class InertAdapter: AgentAdapter {
    let settings: JSONValue
    private let channel = AdapterEventChannel()
    init(settings: JSONValue) { self.settings = settings }
    var events: AsyncStream<AdapterEvent> { channel.events }
    var agentSessionId: String? { nil }
    var status: SessionStatus { channel.status }
    func start(_ options: StartOptions) async throws {}
    func sendMessage(_ text: String) async throws {}
    func setModel(_ model: String) async throws {}
    func interrupt() async throws {}
    func dispose() async { channel.finish() }
}

@Suite("Agent registry")
struct RegistryTests {
    @Test("In-process factories are injected and get their settings")
    func injectedFactory() throws {
        let registry = AgentRegistry()
        try registry.register(agentType: "fake", settings: .object(["k": .string("v")])) { InertAdapter(settings: $0) }
        let adapter = try #require(try registry.makeAdapter(for: "fake") as? InertAdapter)
        #expect(adapter.settings == .object(["k": .string("v")]))
    }

    @Test("An unknown type is an error listing the known types")
    func unknownType() throws {
        let registry = AgentRegistry()
        #expect(throws: RegistryError(.unknownAgentType, "Unknown agent type 'claude' (none are registered).")) {
            _ = try registry.makeAdapter(for: "claude")
        }
        try registry.register(agentType: "scripted") { InertAdapter(settings: $0) }
        try registry.register(agentType: "codex") { InertAdapter(settings: $0) }
        #expect(throws: RegistryError(.unknownAgentType, "Unknown agent type 'claude' (known types: codex, scripted).")) {
            _ = try registry.makeAdapter(for: "claude")
        }
    }

    @Test("Invalid type names are refused")
    func invalidNames() {
        let registry = AgentRegistry()
        #expect(throws: RegistryError.self) { try registry.register(agentType: "") { InertAdapter(settings: $0) } }
        #expect(throws: RegistryError.self) { try registry.register(agentType: "Claude") { InertAdapter(settings: $0) } }
        #expect(registry.agentTypes.isEmpty)
    }
}

@Suite("Plugin catalog")
struct PluginCatalogTests {
    /// A directory with the given fixture files copied in under the given names.
    static func directory(_ files: [String: String]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (name, source) in files {
            try FileManager.default.copyItem(atPath: source, toPath: dir.path + "/" + name)
        }
        return dir
    }

    static func config(_ json: String, in dir: TemporaryDirectory) throws -> SwitchboardConfig {
        try SwitchboardConfig.parse(json, baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
    }

    @Test("Without a config file the bundled plugins serve their types")
    func bundledDefaults() async throws {
        let catalog = PluginCatalog.load(.defaults(bundledPluginDirectory: BuildProducts.directory))
        #expect(catalog.registry.agentTypes.contains("codex"))
        #expect(catalog.registry.agentTypes.contains("scripted"))
        #expect(!catalog.hasFailures, "\(catalog.entries)")
        // The ACP bridge serves the types a config names; without one it serves none.
        #expect(!catalog.registry.agentTypes.contains("acp"))
        #expect(catalog.entries.contains { $0.agentType == "acp" && $0.path.hasSuffix("libACPAdapter.so") && !$0.isFailure })
        let adapter = try catalog.registry.makeAdapter(for: "scripted")
        #expect(adapter is PluginAdapter)
        await adapter.dispose()
    }

    @Test("Broken plugins are listed with their reasons and the others keep working")
    func brokenPluginsDoNotStopOthers() async throws {
        let dir = try Self.directory([
            "libGood.so": try Fixtures.plugin("good"),
            "libNoEntry.so": try Fixtures.plugin("noentry", ["NO_ENTRY"]),
            "libAbi7.so": try Fixtures.plugin("abi7", ["ABI_VERSION=7"]),
            "libScripted.so": BuildProducts.plugin("ScriptedAdapter"),
        ])
        defer { dir.remove() }
        try dir.write("libText.so", "not elf")
        let catalog = PluginCatalog.load(try Self.config(#"{"pluginDirectories":["."]}"#, in: dir))
        #expect(catalog.registry.agentTypes == ["fixture", "scripted"])
        let failures = catalog.entries.filter(\.isFailure).map(\.path)
        #expect(failures == ["\(dir.path)/libAbi7.so", "\(dir.path)/libText.so"])
        // A library without the entry symbol is not a plugin: passed over in a scan...
        #expect(!catalog.entries.contains { $0.path.hasSuffix("libNoEntry.so") })
        // ...but an error when the config names it.
        let named = PluginCatalog.load(try Self.config(#"{"pluginDirectories":[],"agents":{"x":{"plugin":"./libNoEntry.so"}}}"#, in: dir))
        #expect(named.entries.first?.status == .failed("Plugin '\(dir.path)/libNoEntry.so' does not export 'switchboard_plugin_v1'; it is not a Switchboard plugin."))
        // The good ones still run a turn.
        let adapter = try catalog.registry.makeAdapter(for: "fixture")
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("hi")
        try await log.waitForMessage { $0.type == .done }
        await adapter.dispose()
    }

    @Test("Two plugins claiming one type are refused unless the config chooses")
    func duplicateTypes() throws {
        let a = try Fixtures.plugin("dup-a", ["AGENT_TYPE=\"twin\""])
        let b = try Fixtures.plugin("dup-b", ["AGENT_TYPE=\"twin\"", "ABI_VERSION=1"])
        let dir = try Self.directory(["libTwinA.so": a, "libTwinB.so": b])
        defer { dir.remove() }
        let unresolved = PluginCatalog.load(try Self.config(#"{"pluginDirectories":["."]}"#, in: dir))
        #expect(!unresolved.registry.agentTypes.contains("twin"))
        let messages = unresolved.entries.filter(\.isFailure).map(\.status)
        let expected = "Agent type 'twin' is claimed by '\(dir.path)/libTwinA.so' and '\(dir.path)/libTwinB.so'; choose one with agents.twin.plugin in the config."
        #expect(messages == [.failed(expected), .failed(expected)])

        let chosen = PluginCatalog.load(try Self.config(
            #"{"pluginDirectories":["."],"agents":{"twin":{"plugin":"libTwinB.so"}}}"#, in: dir))
        #expect(chosen.registry.registration(for: "twin")?.plugin?.path == "\(dir.path)/libTwinB.so")
        #expect(!chosen.hasFailures)
        #expect(chosen.entries.contains { $0.path == "\(dir.path)/libTwinA.so" && $0.status == .superseded("agents.twin.plugin chose 'libTwinB.so'") })
    }

    @Test("A plugin that serves configured types serves each type the config names it for, and its family type only with an entry")
    func configuredTypes() throws {
        let family = try Fixtures.plugin("family", ["PLUGIN_FLAGS=1", "AGENT_TYPE=\"family\""])
        let dir = try Self.directory(["libFamily.so": family])
        defer { dir.remove() }
        // Scanned alone, it serves nothing: without settings it has no agent to run.
        let scanned = PluginCatalog.load(try Self.config(#"{"pluginDirectories":["."]}"#, in: dir))
        #expect(scanned.registry.agentTypes.isEmpty)
        #expect(!scanned.hasFailures)
        #expect(scanned.entries.map(\.status) == [.superseded("it serves the agent types the config names it for with agents.<type>.plugin")])
        // Named for two types, it serves both, each with its own settings.
        let two = PluginCatalog.load(try Self.config(#"""
            {"pluginDirectories":["."],"agents":{
              "one":{"plugin":"libFamily.so","settings":{"n":1}},
              "two":{"plugin":"./libFamily.so","settings":{"n":2}}}}
            """#, in: dir))
        #expect(two.registry.agentTypes == ["one", "two"])
        #expect(two.registry.registration(for: "one")?.settings == .object(["n": .int(1)]))
        #expect(two.registry.registration(for: "two")?.settings == .object(["n": .int(2)]))
        #expect(two.registry.registration(for: "one")?.plugin == two.registry.registration(for: "two")?.plugin)
        #expect(!two.hasFailures)
        // An entry for the family type itself makes it serve that type too.
        let own = PluginCatalog.load(try Self.config(#"{"pluginDirectories":["."],"agents":{"family":{"settings":{"n":0}}}}"#, in: dir))
        #expect(own.registry.agentTypes == ["family"])
        #expect(own.registry.registration(for: "family")?.settings == .object(["n": .int(0)]))
    }

    @Test("The config swaps an agent type to the scripted plugin, with its settings")
    func swapToScripted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config("""
        {"agents":{"claude":{"plugin":"libScriptedAdapter.so","settings":{"turns":[{"messages":[{"type":"assistant","content":"scripted claude"}]}]}}}}
        """, in: dir)
        let catalog = PluginCatalog.load(config)
        #expect(catalog.registry.registration(for: "claude")?.plugin?.agentType == "scripted")
        let adapter = try catalog.registry.makeAdapter(for: "claude")
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("hello")
        try await log.waitForMessage { $0.content == "scripted claude" }
        await adapter.dispose()
        // Errors name the type the adapter serves, not the one the plugin declares.
        let broken = PluginCatalog.load(try Self.config(#"{"agents":{"claude":{"plugin":"libScriptedAdapter.so","settings":{"loop":1}}}}"#, in: dir))
        #expect(throws: AdapterError(.invalidSettings, "Plugin 'libScriptedAdapter.so' could not create an adapter for 'claude': settings.loop: must be true or false, not a number")) {
            _ = try broken.registry.makeAdapter(for: "claude")
        }
    }

    @Test("A configured type nothing serves is listed as a failure")
    func unservedType() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let catalog = PluginCatalog.load(try Self.config(#"{"agents":{"pi":{"settings":{}}}}"#, in: dir))
        #expect(catalog.entries.contains {
            $0.agentType == "pi" && $0.status == .failed("agents.pi: no plugin in the plugin directories serves agent type 'pi'; name one with agents.pi.plugin.")
        })
    }
}
