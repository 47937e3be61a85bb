import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardSQLite
import SwitchboardTesting

/// The event log behind sessions: both stores page it, retention prunes it, a replay from
/// before what it keeps says so, unreadable rows are skipped, and the session lock keeps two
/// managers from running one session.
@Suite("Session history: the event log, retention, the session lock")
struct SessionHistoryTests {
    static func frame(_ seq: Int, session: String = "s", json: String? = nil, at time: Int64 = 1_000) -> LoggedFrame {
        LoggedFrame(sessionId: session, seq: seq, kind: .message,
                    json: json ?? #"{"type":"assistant","content":"frame \#(seq)","timestamp":"2026-12-02T00:00:00.000Z","seq":\#(seq)}"#,
                    createdAt: time)
    }

    @Test("Both stores page 20k frames in seq order, keep sessions apart, and delete a session's log with it", arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(SessionRecord(id: "s", workspaceName: "w", agentType: "a", createdAt: 1, lastActivity: 1))
            for start in stride(from: 0, to: 20_000, by: 1_000) {
                try await store.appendFrames((start..<(start + 1_000)).map { Self.frame($0) })
            }
            try await store.appendFrames([Self.frame(0, session: "other")])
            #expect(try await store.frameBounds("s") == 0...19_999)
            var seqs: [Int] = []
            var after = -1
            while true {
                let page = try await store.frames("s", after: after, limit: 500)
                guard let last = page.last else { break }
                #expect(page.count == 500)
                seqs += page.map(\.seq)
                after = last.seq
            }
            #expect(seqs == Array(0..<20_000))
            #expect(try await store.frames("s", after: 19_990, limit: 500).map(\.seq) == Array(19_991..<20_000))
            #expect(try await store.frames("s", after: 50_000, limit: 500).isEmpty)
            try await store.delete("s")
            #expect(try await store.frameBounds("s") == nil)
            #expect(try await store.frameBounds("other") == 0...0)
        }
    }

    @Test("Retention keeps the newest frames by count, by bytes and by age", arguments: StoreKind.allCases)
    func retention(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.appendFrames((0..<100).map { Self.frame($0, at: Int64(1_000 + $0)) })
            #expect(try await store.pruneFrames("s", retention: HistoryRetention(maxFramesPerSession: 60), now: 2_000) == 40)
            #expect(try await store.frameBounds("s") == 40...99)
            let size = Self.frame(99).byteCount
            _ = try await store.pruneFrames("s", retention: HistoryRetention(maxBytesPerSession: size * 10), now: 2_000)
            #expect(try await store.frameBounds("s")?.count ?? 0 <= 10)
            #expect(try await store.frameBounds("s")?.upperBound == 99)
            // maxAgeDays: 1 with "now" a day and a bit after the frames: all of them are old.
            let later: Int64 = 1_000 + 86_400_000 + 50
            #expect(try await store.sessionsWithFrames(before: 1_095) == ["s"])
            #expect(try await store.sessionsWithFrames(before: 1_000) == [])
            _ = try await store.pruneFrames("s", retention: HistoryRetention(maxAgeDays: 1), now: later)
            #expect(try await store.frameBounds("s")?.lowerBound ?? 100 >= 50)
        }
    }

    @Test("After pruning, a replay from before the log's oldest frame starts with the notice, then the kept frames")
    func prunedReplay() async throws {
        let agents = try TestAgents()
        var configuration = SessionManager.Configuration(messageBufferSize: 4)
        configuration.history = HistoryRetention(maxFramesPerSession: 10)
        let manager = SessionManager(registry: agents.registry, store: InMemorySessionStore(), configuration: configuration)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let live = ClientRecorder()
        _ = await manager.connect(id, client: live.client)
        for i in 0..<30 { agents.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "m\(i)")) }
        try await live.waitForFrames(31)
        let newest = try #require(live.received.compactMap(\.seq).last)
        #expect(await manager.pruneHistory(id) > 0)
        let late = ClientRecorder()
        _ = await manager.connect(id, client: late.client, resumeFrom: 0)
        try await late.waitForMessage { $0.content.hasPrefix("Connected") }
        let oldest = newest - 9
        #expect(late.received.first?.notice == .framesDropped(replayingFrom: oldest))
        #expect(late.received.compactMap(\.seq) == Array(oldest...newest))
        #expect(try await manager.history(id, after: -1, limit: 100).map(\.seq) == Array(oldest...newest))
        await manager.disposeAll()
    }

    @Test("A row that is not a frame is skipped in a replay with an error frame naming it; the rest arrives")
    func unreadableRow() async throws {
        let agents = try TestAgents()
        let store = TestStore()
        let manager = SessionManager(registry: agents.registry, store: store, configuration: .init(messageBufferSize: 2))
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let live = ClientRecorder()
        _ = await manager.connect(id, client: live.client)
        for i in 0..<6 { agents.adapters[0].channel.emit(ChatMessage(type: .assistant, content: "m\(i)")) }
        try await live.waitForFrames(7)
        let seqs = live.received.compactMap(\.seq)
        // One old row reads back as text that is no frame.
        let broken = seqs[1]
        await store.corrupt(broken)
        let late = ClientRecorder()
        _ = await manager.connect(id, client: late.client, resumeFrom: -1)
        try await late.waitForMessage { $0.content.hasPrefix("Connected") }
        #expect(late.received.compactMap(\.seq) == seqs.filter { $0 != broken })
        #expect(late.messages.contains { $0.type == .error && $0.content.hasPrefix("Frame \(broken) of the history could not be read") })
        await manager.disposeAll()
    }

    @Test("A second manager on the same lock directory cannot run a session the first runs; the error names the process")
    func lock() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-locks")
        defer { dir.remove() }
        let agents = try TestAgents()
        let store = InMemorySessionStore()
        var configuration = SessionManager.Configuration()
        configuration.lockDirectory = dir.path + "/locks"
        let first = SessionManager(registry: agents.registry, store: store, configuration: configuration)
        let second = SessionManager(registry: agents.registry, store: store, configuration: configuration)
        let id = try await first.start(SessionStartOptions(workspaceName: "w", agentType: "fake", sessionId: "shared"))
        let error = await #expect(throws: SessionError.self) { _ = try await second.find(id) }
        #expect(error?.code == .lockedElsewhere)
        #expect(error?.message.contains("Session shared is run by process \(getpid())") == true, "\(error?.message ?? "")")
        #expect(await second.info(id) == nil)
        await first.dispose(id)
        #expect(try await second.find(id)?.id == id)
        await second.disposeAll()
    }
}
