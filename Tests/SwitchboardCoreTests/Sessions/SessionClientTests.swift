import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

@Suite("Session manager: clients, replay, the ring buffer, slow clients")
struct SessionClientTests {
    let agents: TestAgents
    let store = TestStore()

    init() throws {
        agents = try TestAgents()
    }

    func manager(bufferSize: Int = 1000, bufferBytes: Int = 8 << 20, queueLimit: Int = 1000) -> SessionManager {
        SessionManager(registry: agents.registry, store: store, configuration: .init(
            messageBufferSize: bufferSize, messageBufferBytes: bufferBytes, clientQueueLimit: queueLimit))
    }

    /// Emits `count` assistant messages and waits until `client` has them all.
    func emit(_ count: Int, from adapter: FakeAdapter, prefix: String = "m", to client: ClientRecorder) async throws {
        let before = client.received.count
        for i in 0..<count { adapter.channel.emit(ChatMessage(type: .assistant, content: "\(prefix)\(i)")) }
        try await client.waitForFrames(before + count)
    }

    @Test("Client ids count up; connect replays everything, then the Connected notice")
    func connectAndReplay() async throws {
        let manager = manager()
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let first = ClientRecorder()
        #expect(await manager.connect(id, client: first.client) == "client-1")
        try await emit(3, from: agents.adapters[0], to: first)

        let second = ClientRecorder()
        #expect(await manager.connect(id, client: second.client) == "client-2")
        try await second.waitForFrames(4)
        #expect(second.received.map(\.seq) == [0, 1, 2, nil])
        #expect(second.messages.map(\.content) == ["m0", "m1", "m2", "Connected to session (status: idle)"])
        // The first one's notice was its own; the frames after it are the live ones.
        #expect(first.received.first?.message.content == "Connected to session (status: idle)")
        #expect(first.received.first?.seq == nil)
    }

    @Test("A client that reconnects with the last seq it saw gets exactly what it missed")
    func resume() async throws {
        let manager = manager()
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let watcher = ClientRecorder()
        _ = await manager.connect(id, client: watcher.client)
        let flaky = ClientRecorder()
        let flakyId = try #require(await manager.connect(id, client: flaky.client))
        try await emit(5, from: agents.adapters[0], to: flaky)
        let lastSeen = try #require(flaky.received.compactMap(\.seq).last)
        await manager.disconnect(id, clientId: flakyId)
        #expect(flaky.disconnectReasons == [.requested])
        try await emit(4, from: agents.adapters[0], prefix: "missed", to: watcher)

        let back = ClientRecorder()
        _ = await manager.connect(id, client: back.client, resumeFrom: lastSeen)
        try await back.waitForMessage { $0.content.hasPrefix("Connected") }
        #expect(back.messages.map(\.content) == ["missed0", "missed1", "missed2", "missed3", "Connected to session (status: idle)"])
        #expect(back.received.compactMap(\.seq) == Array((lastSeen + 1)...(lastSeen + 4)))
    }

    @Test("The buffer is a ring bounded in count; resuming from before it replays from the event log")
    func ringByCount() async throws {
        let manager = manager(bufferSize: 10)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let live = ClientRecorder()
        _ = await manager.connect(id, client: live.client)
        try await emit(25, from: agents.adapters[0], to: live)
        let kept = await manager.messages(id)
        #expect(kept.count == 10)
        #expect(kept.map(\.seq) == Array(15..<25).map(Optional.some))

        let late = ClientRecorder()
        _ = await manager.connect(id, client: late.client, resumeFrom: 3)
        try await late.waitForMessage { $0.content.hasPrefix("Connected") }
        // The ring keeps 15…24; 4…14 come from the log, in order, before them.
        #expect(late.received.compactMap(\.seq) == Array(4..<25))
        #expect(late.messages.last?.content == "Connected to session (status: idle)")
    }

    @Test("The buffer is bounded in bytes, so one huge output cannot blow up memory")
    func ringByBytes() async throws {
        let manager = manager(bufferBytes: 64 * 1024)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        let huge = String(repeating: "x", count: 40 * 1024)
        for i in 0..<5 { agents.adapters[0].channel.emit(ChatMessage(type: .toolResult, content: huge + "\(i)")) }
        try await client.waitForFrames(6)
        let kept = await manager.messages(id)
        #expect(kept.count == 1)  // the newest always stays
        #expect(kept.first?.message.content.hasSuffix("4") == true)
    }

    @Test("A stalled client does not delay the others and is disconnected with a reason")
    func stalledClient() async throws {
        let manager = manager(queueLimit: 20)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let gate = AsyncStream<Void>.makeStream()
        let stalledReasons = Recorder<DisconnectReason>()
        let stalled = SessionClient(
            send: { _ in for await _ in gate.stream {} },  // never returns until the test ends
            onDisconnect: { stalledReasons.append($0) }
        )
        _ = await manager.connect(id, client: stalled)
        let healthy = ClientRecorder()
        _ = await manager.connect(id, client: healthy.client)
        // Paced in rounds the healthy client keeps up with; the stalled one piles up.
        for round in 0..<10 {
            try await emit(10, from: agents.adapters[0], prefix: "r\(round)-", to: healthy)
        }
        #expect(healthy.messages.filter { $0.type == .assistant }.count == 100)
        #expect(await manager.clientCount(id) == 1)
        try await stalledReasons.wait { !$0.isEmpty }
        #expect(stalledReasons.items == [.fellBehind(allowance: 20)])
        #expect(stalledReasons.items.first?.description
                == "Disconnected: more than 20 frames were waiting for this client. Reconnect and resume from the last seq received.")
        gate.continuation.finish()
    }

    @Test("A client whose send fails is dropped; the others and the adapter carry on")
    func failingClient() async throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "socket closed" } }
        let manager = manager()
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let reasons = Recorder<DisconnectReason>()
        _ = await manager.connect(id, client: SessionClient(send: { _ in throw Broken() }, onDisconnect: { reasons.append($0) }))
        let healthy = ClientRecorder()
        _ = await manager.connect(id, client: healthy.client)
        try await emit(10, from: agents.adapters[0], to: healthy)
        try await reasons.wait { !$0.isEmpty }
        #expect(reasons.items == [.sendFailed("sending to the client failed: socket closed")])
        #expect(await manager.clientCount(id) == 1)
        try await manager.send(id, text: "still works")
        #expect(await manager.status(id) == .running)
    }
}
