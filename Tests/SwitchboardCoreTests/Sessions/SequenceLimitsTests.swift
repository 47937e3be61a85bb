import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// Sequence numbers and limits from outside reach the manager's arithmetic unchecked in
/// range; none of them may trap.
@Suite("Session manager: extreme sequence numbers and limits")
struct SequenceLimitsTests {
    let agents: TestAgents
    let store = TestStore()

    init() throws {
        agents = try TestAgents()
    }

    func manager(queueLimit: Int = 1000, bufferBytes: Int = 8 << 20) -> SessionManager {
        SessionManager(registry: agents.registry, store: store, configuration: .init(
            messageBufferSize: 5, messageBufferBytes: bufferBytes, clientQueueLimit: queueLimit))
    }

    @Test("messages(after:) with Int.max, Int.min and the edges gives the documented frames without trapping")
    func extremeSeqs() async throws {
        let manager = manager()
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        for i in 0..<8 { agents.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "m\(i)")) }
        try await client.waitForFrames(9)
        // Frames 0…7 were made; the buffer keeps 3…7.
        #expect(await manager.messages(id, after: Int.max).isEmpty)
        #expect(await manager.messages(id, after: 7).isEmpty)
        #expect(await manager.messages(id, after: 8).isEmpty)
        #expect(await manager.messages(id, after: 6).map(\.seq) == [7])
        #expect(await manager.messages(id, after: 2).map(\.seq) == [3, 4, 5, 6, 7])
        #expect(await manager.messages(id, after: -1).map(\.seq) == [3, 4, 5, 6, 7])
        #expect(await manager.messages(id, after: Int.min).map(\.seq) == [3, 4, 5, 6, 7])
    }

    @Test("A client queue limit of Int.max and a resume from Int.max attach without trapping")
    func hugeQueueLimit() async throws {
        let manager = manager(queueLimit: Int.max, bufferBytes: Int.max)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let first = ClientRecorder()
        #expect(await manager.connect(id, client: first.client, resumeFrom: Int.max) != nil)
        agents.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "hello"))
        try await first.waitForMessage { $0.content == "hello" }
        let second = ClientRecorder()
        #expect(await manager.connect(id, client: second.client, resumeFrom: Int.min) != nil)
        try await second.waitForNotice { if case .connected = $0 { true } else { false } }
        #expect(second.messages.contains { $0.content == "hello" })
    }
}
