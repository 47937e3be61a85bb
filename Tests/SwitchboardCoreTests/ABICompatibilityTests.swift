import CSwitchboardABI
import Testing
import SwitchboardAdapterAPI
@testable import SwitchboardCore
import SwitchboardTesting

/// A host whose header has grown: today's v1 descriptor (which already appended `answer`)
/// with two more fields appended, as a later v1.x header might define it (the same layout
/// as the GROWN fixture's C struct).
private struct GrownHostDescriptor {
    var v1: switchboard_plugin_descriptor
    var homepage: UnsafePointer<CChar>?
    var flags: UInt64
}

/// The ABI's evolution rules, exercised with C plugins built for them: appended fields and
/// `struct_size` in both directions, and refusals of other major versions that name both.
@Suite("ABI compatibility")
struct ABICompatibilityTests {
    /// Loads the plugin and runs one turn through it, as the host would.
    private func runTurn(_ plugin: LoadedPlugin) async throws {
        let adapter = try PluginAdapter(plugin: plugin, settings: .object([:]))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("hi")
        try await log.waitForStatus(.idle)
        #expect(log.messages.map(\.type) == [.assistant, .done])
        await adapter.dispose()
    }

    @Test("The v1 size is the end of free_buffer, and stays so when fields are appended")
    func minimumSize() {
        let endOfFreeBuffer = MemoryLayout<switchboard_plugin_descriptor>.offset(of: \.free_buffer)! + MemoryLayout<UnsafeRawPointer>.size
        #expect(PluginLoader.minimumDescriptorSize == endOfFreeBuffer)
        #expect(PluginLoader.minimumDescriptorSize == 104)
        // A grown host struct is bigger; the minimum does not follow it.
        #expect(MemoryLayout<switchboard_plugin_descriptor>.size == 120)
        #expect(MemoryLayout<switchboard_plugin_descriptor>.offset(of: \.answer) == 104)
        #expect(MemoryLayout<switchboard_plugin_descriptor>.offset(of: \.plugin_flags) == 112)
        #expect(MemoryLayout<GrownHostDescriptor>.size == 136)
        #expect(MemoryLayout<GrownHostDescriptor>.offset(of: \.homepage) == 120)
    }

    @Test("A plugin built against the v1 header loads into a host whose header grew, and nothing past its struct_size is read")
    func v1PluginIntoGrownHost() async throws {
        // The descriptor ends exactly where a PROT_NONE page begins: reading one byte past
        // struct_size would crash this test.
        let plugin = try PluginLoader.load(try Fixtures.plugin("guarded", ["GUARDED_V1"]))
        #expect(plugin.agentType == "guarded")
        #expect(plugin.structSize == 104)
        // The host's own table has every v1 function.
        #expect(try #require(plugin.descriptor).table.free_buffer != nil)
        // A host expecting the grown struct sees the appended fields as absent (NULL, 0).
        let grown = PluginLoader.copyDescriptor(UnsafeRawPointer(try #require(plugin.descriptor).pointer), structSize: Int(plugin.structSize), as: GrownHostDescriptor.self)
        #expect(grown.homepage == nil)
        #expect(grown.flags == 0)
        #expect(grown.v1.agent_type.map { String(cString: $0) } == "guarded")
        // A plugin from before `answer` existed never asks, and an answer to it is refused;
        // nor does it serve configured types (its plugin_flags read as 0).
        #expect(try #require(plugin.descriptor).table.answer == nil)
        #expect(try #require(plugin.descriptor).table.plugin_flags == 0 && !plugin.servesConfiguredTypes)
        let adapter = try PluginAdapter(plugin: plugin, settings: .object([:]))
        do {
            try await adapter.answer(DecisionAnswer(id: "x", decision: "allow"))
            Issue.record("a plugin without 'answer' took an answer")
        } catch let error as AdapterError {
            #expect(error.code == .notImplemented)
            #expect(error.message.contains("takes no answers"))
        }
        await adapter.dispose()
        try await runTurn(plugin)
    }

    @Test("A plugin whose descriptor has appended fields loads into this host, which ignores them; a grown host reads them")
    func grownPluginIntoV1Host() async throws {
        let plugin = try PluginLoader.load(try Fixtures.plugin("grown", ["GROWN"]))
        #expect(plugin.agentType == "grown")
        #expect(plugin.pluginVersion == "1.1.0")
        #expect(plugin.structSize == 136)
        let grown = PluginLoader.copyDescriptor(UnsafeRawPointer(try #require(plugin.descriptor).pointer), structSize: Int(plugin.structSize), as: GrownHostDescriptor.self)
        #expect(grown.homepage.map { String(cString: $0) } == "https://example.invalid/grown")
        #expect(grown.flags == 42)
        try await runTurn(plugin)
    }

    @Test("plugin_flags, appended after answer: read when struct_size covers it, ignored (0) when it does not")
    func pluginFlags() async throws {
        let generic = try PluginLoader.load(try Fixtures.plugin("configured", ["PLUGIN_FLAGS=1", "AGENT_TYPE=\"family\""]))
        #expect(generic.structSize == 120)
        #expect(generic.servesConfiguredTypes)
        // Unknown bits are ignored: only bit 0 means something to this host.
        let unknown = try PluginLoader.load(try Fixtures.plugin("unknownflags", ["PLUGIN_FLAGS=6", "AGENT_TYPE=\"unknownflags\""]))
        #expect(!unknown.servesConfiguredTypes)
        // A plugin built when the descriptor ended at `answer` (112 bytes): the flags in memory
        // past its struct_size are never read.
        let answerEra = try PluginLoader.load(try Fixtures.plugin("answerera", ["PLUGIN_FLAGS=1", "STRUCT_SIZE=112", "AGENT_TYPE=\"answerera\""]))
        #expect(answerEra.structSize == 112)
        #expect(!answerEra.servesConfiguredTypes)
        #expect(try #require(answerEra.descriptor).table.plugin_flags == 0)
        try await runTurn(generic)
    }

    @Test("copyDescriptor reads at most struct_size bytes and zero-fills the rest")
    func copyStopsAtStructSize() {
        var bytes = [UInt8](repeating: 0xAB, count: 32)
        let copy: (UInt64, UInt64, UInt64, UInt64) = bytes.withUnsafeMutableBytes { raw in
            PluginLoader.copyDescriptor(UnsafeRawPointer(raw.baseAddress!), structSize: 12, as: (UInt64, UInt64, UInt64, UInt64).self)
        }
        #expect(copy.0 == 0xABAB_ABAB_ABAB_ABAB)
        #expect(copy.1 == 0x0000_0000_ABAB_ABAB)
        #expect(copy.2 == 0 && copy.3 == 0)
    }

    @Test("abi_version 2 in a v1 entry is refused, naming both versions")
    func abiVersionTwo() throws {
        let path = try Fixtures.plugin("abi2", ["ABI_VERSION=2"])
        #expect(throws: PluginLoadError(.unsupportedABIVersion, "Plugin '\(path)' was built for ABI 2; this host speaks ABI 1.")) {
            try PluginLoader.load(path)
        }
    }

    @Test("A file exporting only switchboard_plugin_v2 is refused, naming both versions")
    func v2EntryOnly() throws {
        let path = try Fixtures.plugin("v2only", ["V2_ONLY"])
        #expect(throws: PluginLoadError(.unsupportedABIVersion, "Plugin '\(path)' was built for ABI 2 (it exports 'switchboard_plugin_v2'); this host speaks ABI 1.")) {
            try PluginLoader.load(path)
        }
    }

    @Test("A plugin exporting both v1 and v2 entries loads through v1")
    func bothEntries() async throws {
        let plugin = try PluginLoader.load(try Fixtures.plugin("both", ["BOTH_V1_V2"]))
        #expect(plugin.abiVersion == 1)
        try await runTurn(plugin)
    }

    @Test("A descriptor one field short of v1 is refused")
    func oneFieldShort() throws {
        let path = try Fixtures.plugin("short", ["STRUCT_SIZE=96"])
        #expect(throws: PluginLoadError(.descriptorTooSmall, "Plugin '\(path)' has a descriptor of 96 bytes; ABI 1 needs at least 104.")) {
            try PluginLoader.load(path)
        }
    }
}
