import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

@Suite("Session manager: adapter events, queries, find and restore")
struct SessionEventsTests {
    let agents: TestAgents
    let store = TestStore()
    let manager: SessionManager

    init() throws {
        agents = try TestAgents()
        manager = SessionManager(registry: agents.registry, store: store)
    }

    @Test("Messages get sequence numbers and reach every client; activity is updated")
    func messages() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let before = try #require(await manager.info(id)?.lastActivity)
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        try await manager.send(id, text: "q")
        agents.adapters[0].finishTurn(reply: "a")
        try await client.waitForStatus(.idle)
        let seqs = client.received.compactMap(\.seq)
        #expect(seqs == Array(0..<seqs.count))
        #expect(await manager.info(id)!.lastActivity >= before)
        #expect(await manager.messages(id).map(\.seq) == seqs.map(Optional.some))
        #expect(await manager.messages(id, after: 1).first?.seq == 2)
        #expect(await manager.messages("nope").isEmpty)
    }

    @Test("A new agent session id is recorded, linked in the store, and announced")
    func agentSessionId() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        agents.adapters[0].channel.setAgentSessionId("claude-abc")
        try await client.waitForMessage { $0.type == .system && $0.content == #"{"agentSessionId":"claude-abc"}"# }
        #expect(await manager.info(id)?.agentSessionId == "claude-abc")
        #expect(await store.records[id]?.agentSessionId == "claude-abc")
    }

    @Test("A store failure while linking is an error event, not a crash")
    func linkFailure() async throws {
        await store.setFailLinks(true)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        agents.adapters[0].channel.setAgentSessionId("claude-abc")
        try await client.waitForMessage { $0.type == .error && $0.content == "Could not record the agent session id: Session store 'test' is read-only." }
        try await client.waitForMessage { $0.content == #"{"agentSessionId":"claude-abc"}"# }
        #expect(await manager.info(id)?.agentSessionId == "claude-abc")
    }

    @Test("An adapter error sets status error, records it, and sends an error message")
    func adapterError() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        try await manager.send(id, text: "go")
        agents.adapters[0].channel.emitError("claude died (signal 9)")
        try await client.waitForStatus(.error)
        #expect(await manager.info(id)?.lastError == "claude died (signal 9)")
        #expect(client.messages.contains { $0.type == .error && $0.content == "claude died (signal 9)" })
    }

    @Test("Queries answer for live sessions and nil or empty for unknown ones")
    func queries() async throws {
        #expect(await manager.info("x") == nil)
        #expect(await manager.status("x") == nil)
        #expect(await manager.clientCount("x") == 0)
        #expect(await manager.hasClients("x") == false)
        try await manager.start(SessionStartOptions(workspaceName: "one", agentType: "fake", sessionId: "a"))
        try await manager.start(SessionStartOptions(workspaceName: "two", agentType: "fake", sessionId: "b"))
        #expect(Set(await manager.list().map(\.id)) == ["a", "b"])
        #expect(await manager.list(workspace: "two").map(\.id) == ["b"])
        let cid = await manager.connect("a", client: ClientRecorder().client)
        #expect(cid != nil)
        #expect(await manager.clientCount("a") == 1)
        #expect(await manager.hasClients("a"))
        #expect(await manager.connect("x", client: ClientRecorder().client) == nil)
    }

    @Test("A restored session continues its numbering; a client resuming from before the restore gets exactly what it missed")
    func resumeAcrossRestore() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        for i in 0..<12 { agents.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "old \(i)")) }
        let watcher = ClientRecorder()
        _ = await manager.connect(id, client: watcher.client)
        try await watcher.waitForFrames(13)
        await manager.disposeAll()

        let agents2 = try TestAgents()
        let restarted = SessionManager(registry: agents2.registry, store: store)
        _ = try await restarted.find(id)
        agents2.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "new"))
        let early = ClientRecorder()
        _ = await restarted.connect(id, client: early.client)
        try await early.waitForMessage { $0.content == "new" }
        // Numbering went on: 12 frames before (0…11), then "new" is 12.
        #expect(early.received.first { $0.message.content == "new" }?.seq == 12)
        let client = ClientRecorder()
        _ = await restarted.connect(id, client: client.client, resumeFrom: 9)
        try await client.waitForMessage { $0.content.hasPrefix("Connected") }
        #expect(client.received.compactMap(\.seq) == [10, 11, 12])
        #expect(client.messages.map(\.content) == ["old 10", "old 11", "new", "Connected to session (status: idle)"])
        await restarted.disposeAll()
    }

    @Test("find: live by our id, live by agent id, then the store by id or agent id (restored)")
    func find() async throws {
        #expect(try await manager.find("nothing") == nil)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake", projectPath: "/old"))
        agents.adapters[0].channel.setAgentSessionId("agent-1")
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        try await client.waitForMessage { $0.content.contains("agent-1") }
        #expect(try await manager.find(id)?.id == id)
        #expect(try await manager.find("agent-1")?.id == id)

        // A new manager over the same store restores it, by either id.
        for key in [id, "agent-1"] {
            let agents2 = try TestAgents()
            let restarted = SessionManager(registry: agents2.registry, store: store)
            let found = try #require(try await restarted.find(key, projectPath: "/new"))
            #expect(found.id == id)
            #expect(found.agentSessionId == "agent-1")
            #expect(found.projectPath == "/new")  // the given path wins
            let options = try #require(agents2.adapters.first?.calls.withLock { $0.starts.first })
            #expect(options.agentSessionId == "agent-1")  // resumed
            #expect(options.projectPath == "/new")
            #expect(await store.records.count == 1)  // restored, not duplicated
            await restarted.disposeAll()
        }
    }
}
