import CBenchmarkSupport
import Foundation
import Logging
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore

/// An in-process adapter that emits whatever the benchmark tells it to, as fast as it can.
final class FloodAdapter: AgentAdapter {
    let channel = AdapterEventChannel()
    var events: AsyncStream<AdapterEvent> { channel.events }
    var agentSessionId: String? { nil }
    var status: SessionStatus { channel.status }
    func start(_ options: StartOptions) async throws {}
    func sendMessage(_ text: String) async throws {}
    func setModel(_ model: String) async throws {}
    func interrupt() async throws {}
    func dispose() async { channel.finish() }
}

/// A store that keeps nothing: the fan-out figures measure the manager, not SQLite.
actor NullStore: SessionStore {
    func create(_ record: SessionRecord) async throws {}
    func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) async throws {}
    func touch(_ id: String, at time: Int64, model: String?) async throws {}
    func get(_ id: String) async throws -> SessionRecord? { nil }
    func find(agentSessionId: String) async throws -> SessionRecord? { nil }
    func list(workspace: String?) async throws -> [SessionRecord] { [] }
    func importSession(_ record: SessionRecord) async throws -> SessionRecord { record }
    func delete(_ id: String) async throws {}
    func recordDecision(_ record: DecisionRecord) async throws {}
    func closeDecision(_ record: DecisionRecord) async throws -> Bool { true }
    func decision(_ id: String) async throws -> DecisionRecord? { nil }
    func decisions(_ query: DecisionQuery) async throws -> [DecisionRecord] { [] }
    func expirePendingDecisions(at time: Int64) async throws -> Int { 0 }
    func appendFrames(_ frames: [LoggedFrame]) async throws {}
    func frames(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame] { [] }
    func frameBounds(_ sessionId: String) async throws -> ClosedRange<Int>? { nil }
    func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) async throws -> Int { 0 }
    func sessionsWithFrames(before time: Int64) async throws -> [String] { [] }
    func enqueueMessage(_ message: QueuedMessage) async throws {}
    func removeQueuedMessage(_ sessionId: String, queueId: String) async throws -> Bool { false }
    func queuedMessages(_ sessionId: String?) async throws -> [QueuedMessage] { [] }
    func recordClientMessage(_ record: ClientMessageRecord) async throws {}
    func clientMessage(_ sessionId: String, _ clientMessageId: String) async throws -> ClientMessageRecord? { nil }
}

/// Counts frames per client and signals when every client has `target`.
final class FanOutCounter: Sendable {
    private let counts: Mutex<[Int]>
    private let done: AsyncStream<Void>.Continuation
    let finished: AsyncStream<Void>
    private let target: Int

    init(clients: Int, target: Int) {
        counts = Mutex(Array(repeating: 0, count: clients))
        self.target = target
        (finished, done) = AsyncStream.makeStream(of: Void.self)
    }

    func received(by client: Int) {
        let complete = counts.withLock { c -> Bool in
            c[client] += 1
            return c[client] == target && c.allSatisfy { $0 >= target }
        }
        if complete { done.yield(); done.finish() }
    }
}

/// Bytes of heap in use (glibc's count of allocated chunks): unlike the resident set, it
/// is not hidden by memory the allocator kept from earlier benchmarks.
func heapBytesInUse() -> Int {
    Int(switchboard_bench_heap_in_use())
}

/// A logger that prints nothing: the benchmarks' sessions would otherwise log every start.
let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

func runManagerBenchmarks(quick: Bool, pluginDirectory: String) async throws {
    print("")
    print("4. Session manager fan-out: adapter event -> buffered frame -> every client's send")
    let registry = AgentRegistry()
    let adapters = Mutex<[FloodAdapter]>([])
    try registry.register(agentType: "flood") { _ in
        let adapter = FloodAdapter()
        adapters.withLock { $0.append(adapter) }
        return adapter
    }
    let messages = quick ? 5_000 : 50_000
    for clients in [1, 10, 100] {
        let manager = SessionManager(registry: registry, store: NullStore(),
                                     configuration: .init(clientQueueLimit: messages + 10), logger: quiet)
        let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
        let adapter = adapters.withLock { $0.last! }
        // Each client receives its Connected notice plus every message.
        let counter = FanOutCounter(clients: clients, target: messages + 1)
        for c in 0..<clients {
            _ = await manager.connect(id, client: SessionClient(send: { _ in counter.received(by: c) }))
        }
        let message = ChatMessage(type: .assistant, content: "Here is the change you asked for.", messageId: "msg_1")
        let start = ContinuousClock.now
        for _ in 0..<messages { adapter.channel.emit(message) }
        for await _ in counter.finished {}
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perSecond = Double(messages) / seconds
        print("   \(String(clients).padding(toLength: 3, withPad: " ", startingAt: 0)) client\(clients == 1 ? " " : "s")  \(String(format: "%9.0f", perSecond)) messages/s  (\(String(format: "%10.0f", perSecond * Double(clients))) deliveries/s)")
        await manager.disposeAll()
    }

    print("")
    print("5. Memory of an idle session (heap in use after starting N sessions, minus before, / N)")
    let count = quick ? 200 : 1_000
    for (label, agentType, setUp) in [
        ("in-process adapter", "flood", { () throws -> Void in }),
        ("scripted plugin via dlopen", "scripted", {
            try registry.register(plugin: try PluginLoader.load(FilePaths.join(pluginDirectory, "libScriptedAdapter.so")))
        }),
    ] as [(String, String, () throws -> Void)] {
        try setUp()
        let manager = SessionManager(registry: registry, store: NullStore(), logger: quiet)
        let before = heapBytesInUse()
        for _ in 0..<count {
            try await manager.start(SessionStartOptions(workspaceName: "idle", agentType: agentType))
        }
        let after = heapBytesInUse()
        print("   \(label.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%.1f", Double(after - before) / Double(count) / 1024)) KiB per session (\(count) sessions)")
        await manager.disposeAll()
    }
}
