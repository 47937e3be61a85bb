import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// An ``AdapterError``'s code crosses the C boundary: what a plugin's adapter throws is what
/// the host's `PluginAdapter` throws, code and message.
@Suite("Error codes across the plugin ABI")
struct ErrorCodeCrossingTests {
    /// The C fixture that fails with codes, built once (tests run in parallel).
    static let failingFixture = Result { try Fixtures.plugin("failcode", ["FAILS_WITH_CODE"]) }
    /// Runs `body` and returns the ``AdapterError`` it threw; records an issue otherwise.
    private func adapterError(_ body: () async throws -> Void) async -> AdapterError? {
        do {
            try await body()
            Issue.record("no error was thrown")
        } catch let error as AdapterError {
            return error
        } catch {
            Issue.record("threw \(type(of: error)): \(error)")
        }
        return nil
    }

    @Test("A second message while a Swift plugin's turn runs arrives as invalidState")
    func invalidStateFromSwiftPlugin() async throws {
        let adapter = try ScriptedPluginTests.adapter(try ScriptedPluginTests.turns(#"[{"hang":true},{"echo":true}]"#))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("hang")
        try await log.waitForStatus(.running)
        let error = await adapterError { try await adapter.sendMessage("again") }
        #expect(error?.code == .invalidState)
        #expect(error?.message == "A turn is already running.")
        try await adapter.interrupt()
        await adapter.dispose()
        try await log.waitUntilFinished()
    }

    @Test("A start failure keeps the plugin's code (agentFailure)")
    func startFailureKeepsCode() async throws {
        let adapter = try ScriptedPluginTests.adapter(.object(["turns": .array([]), "startFailure": .string("no such container")]))
        let error = await adapterError { try await adapter.start(StartOptions(workspaceName: "w")) }
        #expect(error?.code == .agentFailure)
        #expect(error?.message == "no such container")
        await adapter.dispose()
    }

    @Test("A C plugin's failed event with a code arrives with that code; a malformed code as 'plugin'")
    func codeFromCPlugin() async throws {
        let plugin = try PluginLoader.load(try Self.failingFixture.get())
        let adapter = try PluginAdapter(plugin: plugin, settings: .object([:]))
        try await adapter.start(StartOptions(workspaceName: "w"))
        await #expect(throws: AdapterError(.invalidState, "Not now.")) { try await adapter.sendMessage("hi") }
        await #expect(throws: AdapterError(.plugin, "No such model.")) { try await adapter.setModel("m") }
        await adapter.dispose()
    }

    @Test("Through the session manager, a plugin's refusal fails the turn with its message")
    func throughTheManager() async throws {
        let registry = AgentRegistry()
        try registry.register(plugin: try PluginLoader.load(try Self.failingFixture.get()))
        let manager = SessionManager(registry: registry, store: InMemorySessionStore())
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fixture"))
        await #expect(throws: SessionError(.adapterFailed, "Not now.")) { try await manager.send(id, text: "hi") }
        #expect(await manager.info(id)?.lastError == "Not now.")
        await manager.disposeAll()
    }
}
