import CBenchmarkSupport
import Foundation
import Logging
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore

/// An in-process adapter that emits whatever the benchmark tells it to, as fast as it can.
/// Like every adapter built on a channel and every plugin, it hands the manager its events as a
/// batch queue.
final class FloodAdapter: ChannelBackedAdapter {
    let channel = AdapterEventChannel()
    var events: AsyncStream<AdapterEvent> { channel.events }
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { nil }
    var status: SessionStatus { channel.status }
    func start(_ options: StartOptions) async throws {}
    func sendMessage(_ text: String) async throws {}
    func setModel(_ model: String) async throws {}
    func interrupt() async throws {}
    func dispose() async { channel.finish() }
}

/// A registry whose type `flood` makes ``FloodAdapter``s, and the adapters it made.
final class FloodRegistry: Sendable {
    private final class Made: Sendable {
        let adapters = Mutex<[FloodAdapter]>([])
    }

    let registry = AgentRegistry()
    private let made = Made()

    init() throws {
        let made = self.made
        try registry.register(agentType: "flood") { _ in
            let adapter = FloodAdapter()
            made.adapters.withLock { $0.append(adapter) }
            return adapter
        }
    }

    /// The adapter made last (the benchmarks start one session at a time).
    var last: FloodAdapter {
        get throws {
            guard let adapter = made.adapters.withLock({ $0.last }) else { throw BenchmarkError("no flood adapter was made") }
            return adapter
        }
    }
}

/// A benchmark could not run as set up.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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

/// Counts frames per client and signals when every client has `target`. Each client's count
/// is its own (touched only by that client's delivery, one call at a time), so the clients do
/// not contend on a lock the plain loop does not have; the work per frame is the plain
/// loop's ``PlainClient/receive(_:)``.
final class FanOutCounter: Sendable {
    private let slots: [PlainClient]
    private let complete = Atomic<Int>(0)
    private let done: AsyncStream<Void>.Continuation
    let finished: AsyncStream<Void>
    private let target: Int

    init(clients: Int, target: Int) {
        slots = (0..<clients).map { _ in PlainClient() }
        self.target = target
        (finished, done) = AsyncStream.makeStream(of: Void.self)
    }

    func received(by client: Int, _ frame: SessionFrame) {
        let slot = slots[client]
        slot.receive(frame.wireText)
        if slot.received == target { clientIsComplete() }
    }

    /// A batch for one client: its slot is looked up once, as a real client finds its
    /// connection once per batch; per frame, the work is the plain loop's.
    func received(by client: Int, _ frames: ArraySlice<SessionFrame>) {
        let slot = slots[client]
        let before = slot.received
        for frame in frames { slot.receive(frame.wireText) }
        if before < target && slot.received >= target { clientIsComplete() }
    }

    private func clientIsComplete() {
        if complete.add(1, ordering: .acquiringAndReleasing).newValue == slots.count {
            done.yield()
            done.finish()
        }
    }

    /// Client `index`, taking frames one by one or in batches as the manager gives them.
    func client(_ index: Int) -> SessionClient {
        SessionClient(
            send: { [self] frame in received(by: index, frame) },
            sendBatch: { [self] frames in received(by: index, frames) }
        )
    }
}

/// Bytes of heap in use (glibc's count of allocated chunks): unlike the resident set, it
/// is not hidden by memory the allocator kept from earlier benchmarks.
func heapBytesInUse() -> Int {
    Int(switchboard_bench_heap_in_use())
}

/// A logger that prints nothing: the benchmarks' sessions would otherwise log every start.
let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

/// Seconds since `start`.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// A client's work for one frame in the fan-out figures: count it (what each client of the
/// manager does too), so the plain loops and the manager do the same per delivery.
final class PlainClient: @unchecked Sendable {
    var received = 0
    var bytes = 0

    /// A real call per delivery (not inlined away), as a socket write would be.
    @inline(never) func receive(_ text: String) {
        received += 1
        bytes &+= text.utf8.count
    }
}

func runFanOutBenchmarks(quick: Bool) async throws {
    print("")
    print("4. Session manager fan-out: adapter event -> numbered frame (JSON made once) -> every client's send")
    print("   Against, in the same run, the original's way: one plain synchronous loop with no bound that")
    print("   encodes the message for each client's send (its real send path), then calls the send.")
    print("")
    print("   clients  manager messages/s (deliveries/s)     plain loop + JSON, messages/s (deliveries/s)   manager vs loop")
    let flood = try FloodRegistry()
    let message = ChatMessage(type: .assistant, content: "Here is the change you asked for.", messageId: "msg_1")
    // `--fanout-clients N`: that row alone (for a profiler).
    var rows = [1, 10, 100, 1000]
    if let i = CommandLine.arguments.firstIndex(of: "--fanout-clients"), i + 1 < CommandLine.arguments.count,
       let n = Int(CommandLine.arguments[i + 1]), (1...10_000).contains(n) {
        rows = [n]
    }
    for clients in rows {
        let deliveries = quick ? 200_000 : 2_000_000
        let messages = max(200, min(quick ? 20_000 : 200_000, deliveries / clients))
        // The original's loops, measured just before the manager.
        let plain = (0..<clients).map { _ in PlainClient() }
        let encodedStart = ContinuousClock.now
        for seq in 0..<messages {
            for client in plain {
                client.receive(SessionFrame(seq: seq, message: message).wireText)
            }
        }
        let encoded = Double(messages) / secondsSince(encodedStart)

        let manager = SessionManager(registry: flood.registry, store: NullStore(),
                                     configuration: .init(clientQueueLimit: messages + 10), logger: quiet)
        let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
        let adapter = try flood.last
        // Each client receives its Connected notice plus every message.
        let counter = FanOutCounter(clients: clients, target: messages + 1)
        for c in 0..<clients {
            _ = await manager.connect(id, client: counter.client(c))
        }
        let start = ContinuousClock.now
        for _ in 0..<messages { adapter.channel.emit(message) }
        for await _ in counter.finished {}
        let perSecond = Double(messages) / secondsSince(start)
        await manager.disposeAll()
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        print("   \(pad(String(clients), 7))  \(pad(String(format: "%9.0f (%10.0f)", perSecond, perSecond * Double(clients)), 36))  \(pad(String(format: "%9.0f (%10.0f)", encoded, encoded * Double(clients)), 45))  \(String(format: "%.2f", perSecond / encoded))x")
    }
}

func runReplayBenchmarks(quick: Bool) async throws {
    print("")
    print("4b. Replay of a full ring: a client connects to a session whose ring holds 1000 frames and")
    print("    receives all of them and its Connected notice; against the original's bare loop over the")
    print("    same 1000 frames (a call per frame with its wire text; no queue, no task), in the same run.")
    let flood = try FloodRegistry()
    let manager = SessionManager(registry: flood.registry, store: NullStore(),
                                 configuration: .init(messageBufferSize: 1000, clientQueueLimit: 2_000), logger: quiet)
    let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
    let adapter = try flood.last
    let message = ChatMessage(type: .assistant, content: "Here is the change you asked for.", messageId: "msg_1")
    // Fill the ring: 1000 messages, seen through by one client before it leaves.
    let filler = FanOutCounter(clients: 1, target: 1_001)
    let fillerId = await manager.connect(id, client: filler.client(0))
    for _ in 0..<1_000 { adapter.channel.emit(message) }
    for await _ in filler.finished {}
    if let fillerId { await manager.disconnect(id, clientId: fillerId) }
    let ring = await manager.messages(id)
    guard ring.count == 1_000 else { throw BenchmarkError("the ring holds \(ring.count) frames, not 1000") }

    /// One client connects, receives the ring and its Connected notice, and leaves.
    @Sendable func replay() async throws {
        let counter = FanOutCounter(clients: 1, target: 1_001)
        guard let client = await manager.connect(id, client: counter.client(0)) else {
            throw BenchmarkError("connect failed")
        }
        for await _ in counter.finished {}
        await manager.disconnect(id, clientId: client)
    }
    let replays = quick ? 200 : 2_000
    let start = ContinuousClock.now
    for _ in 0..<replays { try await replay() }
    let perSecond = Double(replays) / secondsSince(start)

    // The same replays, 8 clients connecting at once (as after a restart, when every phone
    // reconnects): how many the manager serves per second when one client's wait for its
    // delivery task to be scheduled overlaps another's.
    let atOnce = 8
    let rounds = replays / atOnce
    let concurrentStart = ContinuousClock.now
    for _ in 0..<rounds {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<atOnce { group.addTask { try await replay() } }
            try await group.waitForAll()
        }
    }
    let concurrent = Double(rounds * atOnce) / secondsSince(concurrentStart)
    await manager.disposeAll()

    let plain = PlainClient()
    let loops = replays * 20
    let loopStart = ContinuousClock.now
    for _ in 0..<loops {
        for frame in ring { plain.receive(frame.wireText) }
    }
    let loop = Double(loops) / secondsSince(loopStart)
    print("    manager: \(String(format: "%.0f", perSecond)) replays/s (\(formatNs(1e9 / perSecond)) each, \(String(format: "%.0f", perSecond * 1000)) frames/s)   bare loop: \(String(format: "%.0f", loop)) replays/s   manager vs loop: \(String(format: "%.2f", perSecond / loop))x")
    print("    manager, \(atOnce) clients connecting at once: \(String(format: "%.0f", concurrent)) replays/s in all (\(String(format: "%.0f", concurrent * 1000)) frames/s)   vs bare loop: \(String(format: "%.2f", concurrent / loop))x")
}

func runMemoryBenchmarks(quick: Bool, pluginDirectory: String) async throws {
    let registry = try FloodRegistry().registry
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
