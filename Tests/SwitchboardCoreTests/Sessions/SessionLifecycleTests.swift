import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

@Suite("Session manager: starting, sending, interrupting, disposing")
struct SessionLifecycleTests {
    let agents: TestAgents
    let store = TestStore()
    let manager: SessionManager

    init() throws {
        agents = try TestAgents()
        manager = SessionManager(registry: agents.registry, store: store, configuration: .init(stateDirectory: "/var/lib/sb"))
    }

    @Test("A new session gets a fresh id, a store record and a started adapter")
    func startNew() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "alpha", agentType: "fake", model: "m1", projectPath: "/src/p"))
        #expect(id.wholeMatch(of: /session-\d{13}-[0-9a-z]{7}/) != nil, "\(id)")
        let info = try #require(await manager.info(id))
        #expect(info.status == .idle)
        #expect(info.containerName == "workspace-alpha")
        let record = try #require(await store.records[id])
        #expect(record.workspaceName == "alpha" && record.agentType == "fake" && record.projectPath == "/src/p" && record.agentSessionId == nil)
        #expect(record.createdAt > 0 && record.lastActivity >= record.createdAt)
        let options = try #require(agents.adapters.first?.calls.withLock { $0.starts.first })
        #expect(options == StartOptions(workspaceName: "alpha", containerName: "workspace-alpha", model: "m1",
                                        projectPath: "/src/p", isHost: false, stateDirectory: "/var/lib/sb"))
    }

    @Test("The host workspace runs on the host, and is refused when the config disables it")
    func hostWorkspace() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "@host", agentType: "fake", sessionId: "h1"))
        #expect(await manager.info(id)?.containerName == nil)
        #expect(agents.adapters.first?.calls.withLock { $0.starts.first?.isHost } == true)

        let locked = SessionManager(registry: agents.registry, store: store, configuration: .init(allowHostWorkspace: false))
        await #expect(throws: SessionError(.hostWorkspaceDisabled, "The host workspace '@host' is not allowed on this server (see allowHostWorkspace and serve --no-host-access).")) {
            try await locked.start(SessionStartOptions(workspaceName: "@host", agentType: "fake", sessionId: "h2"))
        }
        #expect(await store.records["h2"] == nil)
    }

    @Test("Starting a live id makes no new adapter; a different model is applied")
    func startLiveID() async throws {
        try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake", sessionId: "s1", model: "small"))
        let again = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake", sessionId: "s1", model: "large"))
        #expect(again == "s1")
        #expect(agents.adapters.count == 1)
        #expect(agents.adapters[0].calls.withLock { $0.models } == ["large"])
        #expect(await manager.info("s1")?.model == "large")
    }

    @Test("Concurrent starts with one id make exactly one adapter")
    func concurrentStarts() async throws {
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask { try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake", sessionId: "same")) }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(ids == Array(repeating: "same", count: 20))
        #expect(agents.adapters.count == 1)
        #expect(await manager.list().count == 1)
    }

    @Test("Unknown agent types are the registry's error, and nothing is left behind")
    func unknownType() async throws {
        await #expect(throws: RegistryError(.unknownAgentType, "Unknown agent type 'claude' (known types: codex, fake, scripted).")) {
            try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "claude", sessionId: "x"))
        }
        #expect(await manager.info("x") == nil)
        #expect(await store.records.isEmpty)
    }

    @Test("A failed start reaches the caller and leaves no live session and no record", arguments: ["codex", "fake-failing"])
    func failedStart(type: String) async throws {
        let failing = try TestAgents(startFailure: "container 'workspace-w' is not running")
        let manager = SessionManager(registry: failing.registry, store: store)
        let agentType = type == "codex" ? "codex" : "fake"
        let expected = type == "codex"
            ? "The docker binary '\(TestAgents.missingDocker)' does not exist (set by settings.docker in the config)."
            : "container 'workspace-w' is not running"
        do {
            try await manager.start(SessionStartOptions(workspaceName: "w", agentType: agentType, sessionId: "doomed"))
            Issue.record("start succeeded")
        } catch {
            #expect(String(describing: error) == expected)
        }
        #expect(await manager.info("doomed") == nil)
        #expect(await manager.list().isEmpty)
        #expect(await store.records["doomed"] == nil)
        if agentType == "fake" { #expect(failing.adapters[0].calls.withLock { $0.disposed }) }
    }

    @Test("send: unknown id, a user message to every client, one turn at a time, back to idle")
    func sendRules() async throws {
        await #expect(throws: SessionError(.notFound, "Session not found: nope")) {
            try await manager.send("nope", text: "hi")
        }
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let a = ClientRecorder(), b = ClientRecorder()
        _ = await manager.connect(id, client: a.client)
        _ = await manager.connect(id, client: b.client)
        let first = try await manager.send(id, text: "hello")
        #expect(first.seq != nil && first.queueId == nil)
        #expect(await manager.status(id) == .running)
        // A second message while the turn runs is queued, not passed on, not refused.
        let queued = try await manager.send(id, text: "again")
        #expect(queued.seq == nil && queued.queueId?.hasPrefix("q-") == true && queued.position == 1)
        let adapter = agents.adapters[0]
        #expect(adapter.calls.withLock { $0.sends } == ["hello"])
        #expect(try await manager.queuedMessages(id).map(\.content) == ["again"])
        adapter.finishTurn(reply: "hi there")
        // When the turn ends the queued message goes.
        try await a.waitForMessage { $0.type == .user && $0.content == "again" }
        try await b.waitForMessage { $0.type == .user && $0.content == "again" }
        for client in [a, b] {
            let contents = client.messages.filter { $0.type != .system }.map(\.content)
            #expect(contents == ["hello", "hi there", "Response complete", "again"])
            #expect(client.messages.last { $0.type == .user }?.extra["queueId"] == .string(queued.queueId!))
        }
        #expect(adapter.calls.withLock { $0.sends } == ["hello", "again"])
        #expect(try await manager.queuedMessages(id).isEmpty)
        #expect(await manager.status(id) == .running)
    }

    @Test("An adapter that fails to send ends the turn in error, broadcast, never stuck running")
    func sendFailure() async throws {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        agents.adapters[0].sendFailure.withLock { $0 = "claude exited with code 1: not logged in" }
        await #expect(throws: SessionError(.adapterFailed, "claude exited with code 1: not logged in")) {
            try await manager.send(id, text: "hi")
        }
        #expect(await manager.status(id) == .error)
        #expect(await manager.info(id)?.lastError == "claude exited with code 1: not logged in")
        try await client.waitForMessage { $0.type == .error && $0.content == "claude exited with code 1: not logged in" }
        agents.adapters[0].sendFailure.withLock { $0 = nil }
        try await manager.send(id, text: "retry")
        #expect(await manager.status(id) == .running)
    }

    @Test("interrupt and setModel: unknown ids are no-ops; live sessions change")
    func interruptAndModel() async throws {
        await manager.interrupt("nope")
        try await manager.setModel("nope", model: "m")
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        try await manager.send(id, text: "long task")
        await manager.interrupt(id)
        #expect(await manager.status(id) == .interrupted)
        #expect(agents.adapters[0].calls.withLock { $0.interrupts } == 1)
        try await manager.setModel(id, model: "opus")
        #expect(await manager.info(id)?.model == "opus")
        #expect(agents.adapters[0].calls.withLock { $0.models } == ["opus"])
        #expect(await store.records[id]?.model == "opus")
        // A stale status from before the interrupt does not overwrite it; the next turn works.
        try await manager.send(id, text: "next")
        #expect(await manager.status(id) == .running)
    }

    @Test("Interrupting a real plugin's hanging turn through dlopen")
    func interruptScripted() async throws {
        let scripted = try TestAgents(scriptedSettings: try JSONValue(parsing: #"{"turns":[{"hang":true},{"echo":true}]}"#))
        let manager = SessionManager(registry: scripted.registry, store: store)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "scripted"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        try await manager.send(id, text: "hang")
        await manager.interrupt(id)
        #expect(await manager.status(id) == .interrupted)
        let mark = client.received.count
        try await manager.send(id, text: "echo me")
        try await client.waitForStatus(.idle, after: mark)
        #expect(client.messages.contains { $0.type == .assistant && $0.content == "echo me" })
        await manager.dispose(id)
    }

    @Test("dispose tells clients, disposes the adapter, removes the session, keeps the record")
    func dispose() async throws {
        await manager.dispose("nope")
        let a = try await manager.start(SessionStartOptions(workspaceName: "one", agentType: "fake", sessionId: "a"))
        let b = try await manager.start(SessionStartOptions(workspaceName: "one", agentType: "fake", sessionId: "b"))
        let c = try await manager.start(SessionStartOptions(workspaceName: "two", agentType: "fake", sessionId: "c"))
        let client = ClientRecorder()
        _ = await manager.connect(a, client: client.client)
        await manager.dispose(a)
        #expect(client.disconnectReasons == [.sessionDisposed])
        #expect(agents.adapters[0].calls.withLock { $0.disposed })
        #expect(await manager.info(a) == nil)
        #expect(await manager.clientCount(a) == 0)
        #expect(await store.records[a] != nil)

        await manager.disposeWorkspace("two")
        #expect(await manager.list().map(\.id) == [b])
        #expect(agents.adapters[2].calls.withLock { $0.disposed })
        await manager.disposeAll()
        #expect(await manager.list().isEmpty)
        #expect(agents.adapters.allSatisfy { $0.calls.withLock { $0.disposed } })
        _ = c
    }
}
