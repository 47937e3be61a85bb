import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

@Suite("Plugin loader: every bad plugin is a clear error")
struct PluginLoaderTests {
    private func expectLoadError(_ path: String, _ code: PluginLoadError.Code, _ message: String) {
        do {
            let plugin = try PluginLoader.load(path)
            Issue.record("'\(path)' loaded as \(plugin.agentType)")
        } catch {
            #expect(error.code == code)
            #expect(error.message == message)
        }
    }

    @Test func missingFile() {
        expectLoadError("/nonexistent/libNope.so", .fileMissing, "Plugin '/nonexistent/libNope.so' does not exist.")
    }

    @Test func notAnELFSharedObject() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("libText.so", "this is not a shared object\n")
        expectLoadError(path, .notSharedObject, "Plugin '\(path)' is not an ELF shared object.")
    }

    @Test func sharedObjectWithoutEntrySymbol() throws {
        let path = try Fixtures.plugin("noentry", ["NO_ENTRY"])
        expectLoadError(path, .missingEntrySymbol, "Plugin '\(path)' does not export 'switchboard_plugin_v1'; it is not a Switchboard plugin.")
    }

    @Test func futureMajorVersionSymbol() throws {
        let path = try Fixtures.plugin("v2only", ["V2_ONLY"])
        expectLoadError(path, .unsupportedABIVersion, "Plugin '\(path)' was built for ABI 2 (it exports 'switchboard_plugin_v2'); this host speaks ABI 1.")
    }

    @Test func unknownABIVersion() throws {
        let path = try Fixtures.plugin("abi7", ["ABI_VERSION=7"])
        expectLoadError(path, .unsupportedABIVersion, "Plugin '\(path)' was built for ABI 7; this host speaks ABI 1.")
    }

    @Test func descriptorSmallerThanV1() throws {
        let path = try Fixtures.plugin("small", ["STRUCT_SIZE=16"])
        expectLoadError(path, .descriptorTooSmall, "Plugin '\(path)' has a descriptor of 16 bytes; ABI 1 needs at least 104.")
    }

    @Test func entryReturnsNull() throws {
        let path = try Fixtures.plugin("nullentry", ["NULL_ENTRY"])
        expectLoadError(path, .nullDescriptor, "Plugin '\(path)' returned no descriptor (its entry 'switchboard_plugin_v1' returned NULL).")
    }

    @Test func emptyAgentType() throws {
        let path = try Fixtures.plugin("emptytype", ["AGENT_TYPE=\"\""])
        expectLoadError(path, .invalidAgentType, "Plugin '\(path)' declares an invalid agent type: the agent type is empty.")
    }

    @Test func invalidAgentType() throws {
        let path = try Fixtures.plugin("badtype", ["AGENT_TYPE=\"Bad Type!\""])
        expectLoadError(path, .invalidAgentType,
                        "Plugin '\(path)' declares an invalid agent type: the agent type 'Bad Type!' is not valid (use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit).")
    }

    @Test func createFailsWithTheirMessage() throws {
        let plugin = try PluginLoader.load(try Fixtures.plugin("createfails", ["CREATE_FAILS"]))
        #expect(throws: AdapterError(.invalidSettings, "Plugin 'createfails.so' could not create an adapter for 'fixture': settings.apiKey is required")) {
            _ = try PluginAdapter(plugin: plugin, settings: .object([:]))
        }
    }

    @Test("A plugin that loads reports its descriptor")
    func goodPluginDescriptor() throws {
        let path = try Fixtures.plugin("good")
        let plugin = try PluginLoader.load(path)
        #expect(plugin.agentType == "fixture")
        #expect(plugin.displayName == "Test fixture")
        #expect(plugin.pluginVersion == "0.0.1")
        #expect(plugin.abiVersion == 1)
        #expect(plugin.structSize == 120)
        // Loading again gives the same plugin (the library stays loaded).
        #expect(try PluginLoader.load(path) == plugin)
    }

    @Test("Malformed JSON from a plugin is an error on that adapter only")
    func malformedEventsStayWithTheirAdapter() async throws {
        let bad = try PluginAdapter(plugin: try PluginLoader.load(try Fixtures.plugin("malformed", ["MALFORMED"])), settings: .object([:]))
        let good = try PluginAdapter(plugin: try PluginLoader.load(try Fixtures.plugin("good")), settings: .object([:]))
        let badLog = AdapterEventLog(bad)
        let goodLog = AdapterEventLog(good)
        for adapter in [bad, good] {
            try await adapter.start(StartOptions(workspaceName: "w"))
            try await adapter.sendMessage("hi")
        }
        // A turn in which the plugin sent events the host rejected ends in error, whatever
        // status the plugin reports afterwards.
        try await badLog.waitForMessage { $0.type == .done }
        try await badLog.waitForStatus(.error)
        #expect(bad.status == .error)
        try await goodLog.waitForStatus(.idle)
        let errors = badLog.events.compactMap { if case .error(let e) = $0 { e } else { nil } }
        #expect(errors.count == 3)
        #expect(errors[0].hasPrefix("Plugin 'malformed.so' sent an invalid event (invalid JSON at byte"))
        #expect(errors[1] == "Plugin 'malformed.so' sent an invalid event (invalid JSON at byte 19: unknown event 'teleport'); the event was ignored.")
        #expect(errors[2].contains("unknown message type 'shout'"))
        #expect(bad.malformedEventCount == 3)
        // The same plugin's valid events still arrive, and the other adapter saw no error.
        #expect(badLog.messages.map(\.content) == ["ok", "Response complete"])
        #expect(bad.agentSessionId == "fixture-session")
        #expect(!goodLog.events.contains { if case .error = $0 { true } else { false } })
        #expect(good.malformedEventCount == 0)
        await bad.dispose()
        await good.dispose()
    }
}
