import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// What one client of the big fan-out saw: its frames' seqs must run without a gap or a
/// repeat, each message the one emitted with that seq.
private final class SequenceCheck: Sendable {
    struct State {
        var messages = 0
        var firstSeq: Int?
        var lastSeq: Int?
        var faults: [String] = []
    }
    let state = Mutex(State())
    let done = Recorder<Bool>()
    let expected: Int

    init(expected: Int) { self.expected = expected }

    func receive(_ frames: some Collection<SessionFrame>) {
        let complete = state.withLock { s -> Bool in
            for frame in frames {
                guard let seq = frame.seq, case .message(let message) = frame.content else { continue }
                if let last = s.lastSeq, seq != last + 1, s.faults.count < 5 {
                    s.faults.append("seq \(seq) after \(last)")
                }
                let first = s.firstSeq ?? seq
                s.firstSeq = first
                s.lastSeq = seq
                // The content names the emit's index; the seq counts from the first message.
                if message.content != "m\(seq - first)", s.faults.count < 5 {
                    s.faults.append("seq \(seq) carries \(message.content)")
                }
                s.messages += 1
            }
            return s.messages == expected
        }
        if complete { done.append(true) }
    }

    var client: SessionClient {
        SessionClient(send: { [self] frame in receive(CollectionOfOne(frame)) }, sendBatch: { [self] frames in receive(frames) })
    }
}

@Suite("Session manager: a large fan-out keeps every client's order")
struct FanOutOrderTests {
    @Test("100 clients × 100,000 frames: every client receives the same sequence, in order, none lost")
    func hundredClients() async throws {
        let agents = try TestAgents()
        let clients = 100, frames = 100_000
        let manager = SessionManager(registry: agents.registry, store: TestStore(), configuration: .init(
            messageBufferSize: 1000, clientQueueLimit: frames + 10))
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let checks = (0..<clients).map { _ in SequenceCheck(expected: frames) }
        for check in checks { _ = await manager.connect(id, client: check.client) }
        let adapter = agents.adapters[0]
        for i in 0..<frames { adapter.channel.emit(ChatMessage(type: .assistant, content: "m\(i)")) }
        for check in checks { try await check.done.wait(within: .seconds(300)) { !$0.isEmpty } }

        let seen = checks.map { $0.state.withLock { $0 } }
        #expect(seen.allSatisfy { $0.faults.isEmpty }, "\(seen.flatMap(\.faults).prefix(5))")
        #expect(seen.allSatisfy { $0.messages == frames })
        // The same numbers for everyone: the same frames.
        #expect(Set(seen.map { "\($0.firstSeq ?? -1)…\($0.lastSeq ?? -1)" }).count == 1)
        #expect(seen[0].lastSeq.map { $0 - (seen[0].firstSeq ?? 0) } == frames - 1)
        #expect(await manager.clientCount(id) == clients)
        await manager.disposeAll()
    }
}
