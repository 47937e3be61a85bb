import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The plain-C example plugin, compiled with the system C compiler against the header and
/// loaded through the same catalog and loader as the Swift plugins.
@Suite("C example plugin")
struct CPluginTests {
    static let source = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/Examples/CEchoPlugin/echo_plugin.c").path

    /// A directory with `libEchoC.so` built from the example, and a config naming it.
    static func setUp(settings: String) throws -> (TemporaryDirectory, PluginCatalog) {
        let dir = try TemporaryDirectory()
        try CPluginCompiler.build(source: source, output: dir.path + "/libEchoC.so")
        let config = try dir.write("config.json", """
        {"pluginDirectories": [], "agents": {"echo-c": {"plugin": "./libEchoC.so", "settings": \(settings)}}}
        """)
        let catalog = PluginCatalog.load(try SwitchboardConfig.load(path: config, bundledPluginDirectory: BuildProducts.directory))
        return (dir, catalog)
    }

    @Test("It loads from its config entry and runs turns")
    func turns() async throws {
        let (dir, catalog) = try Self.setUp(settings: #"{"prefix": "you said: "}"#)
        defer { dir.remove() }
        #expect(!catalog.hasFailures, "\(catalog.entries)")
        let plugin = try #require(catalog.registry.registration(for: "echo-c")?.plugin)
        #expect(plugin.displayName == "Echo (C example)")
        #expect(plugin.toolchain.hasPrefix("gcc") || plugin.toolchain.hasPrefix("clang"))

        let adapter = try catalog.registry.makeAdapter(for: "echo-c")
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w", model: "tiny"))
        try await adapter.sendMessage("héllo \"world\"")
        try await log.waitForMessage { $0.type == .done }
        #expect(log.messages.first?.content == "you said: héllo \"world\"")
        #expect(log.messages.last?.extra["model"] == .string("tiny"))
        try await log.waitForStatus(.idle)
        #expect(await adapter.agentSessionId?.hasPrefix("echo-") == true)
        await adapter.dispose()
        try await log.waitUntilFinished()
    }

    @Test("Interrupting a delayed turn ends it without a reply; the next turn works")
    func interrupt() async throws {
        let (dir, catalog) = try Self.setUp(settings: #"{"delayMs": 60000}"#)
        defer { dir.remove() }
        let adapter = try catalog.registry.makeAdapter(for: "echo-c")
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("slow")
        try await log.waitForStatus(.running)
        await #expect(throws: AdapterError.self) { try await adapter.sendMessage("second") }
        try await adapter.interrupt()
        try await log.waitForStatus(.interrupted)
        #expect(!log.messages.contains { $0.type == .assistant })
        await adapter.dispose()
    }

    @Test("Bad settings are refused at create with the plugin's reason")
    func badSettings() throws {
        let (dir, catalog) = try Self.setUp(settings: #"{"prefix": 3}"#)
        defer { dir.remove() }
        #expect(throws: AdapterError(.invalidSettings, "Plugin 'libEchoC.so' could not create an adapter for 'echo-c': settings.prefix: must be a string")) {
            _ = try catalog.registry.makeAdapter(for: "echo-c")
        }
    }
}
