import Dispatch
import Foundation
import HummingbirdWSClient
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardServer
import SwitchboardSQLite

/// Per client: when each stamped message arrived, relative to when the adapter emitted it.
final class LatencyLog: Sendable {
    private let state = Mutex<(latencies: [UInt64], received: Int)>(([], 0))
    private let done: AsyncStream<Void>.Continuation
    let finished: AsyncStream<Void>
    let expected: Int

    init(expected: Int) {
        self.expected = expected
        (finished, done) = AsyncStream.makeStream(of: Void.self)
    }

    func record(_ emittedAt: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        let complete = state.withLock { s -> Bool in
            s.latencies.append(now &- emittedAt)
            s.received += 1
            return s.received == expected
        }
        if complete { done.yield(); done.finish() }
    }

    var latencies: [UInt64] { state.withLock { $0.latencies } }
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
}

func runWebSocketBenchmarks(quick: Bool) async throws {
    print("")
    print("7. WebSocket delivery through the daemon (adapter event -> session manager -> WebSocket -> client);")
    print("   the clients run in this process too, so they share the 2 cores with the server")
    let logger: Logger = {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        return logger
    }()
    let registry = AgentRegistry()
    let adapters = Mutex<[FloodAdapter]>([])
    try registry.register(agentType: "flood") { _ in
        let adapter = FloodAdapter()
        adapters.withLock { $0.append(adapter) }
        return adapter
    }
    let burst = quick ? 2_000 : 10_000
    let paced = quick ? 300 : 2_000
    print("   (\"log\": with the SQLite event log; else a store that keeps nothing, as in earlier builds)")
    print("   clients  burst of \(burst): frames/s delivered      paced (\(paced) messages): p50 / p99 latency")
    let scratch = NSTemporaryDirectory() + "switchboard-ws-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let rows: [(clients: Int, logged: Bool)] = [(1, false), (1, true), (100, false), (100, true)]
    for (clients, logged) in rows {
        // Without a log (NullStore) the figures compare with earlier builds; with the SQLite
        // event log they are what the daemon does.
        let store: any SessionStore = logged ? try SQLiteSessionStore(path: scratch + "/ws-\(clients).sqlite") : NullStore()
        let manager = SessionManager(registry: registry, store: store, configuration: .init(clientQueueLimit: burst + paced + 100), logger: logger)
        let server = SwitchboardServer(
            manager: manager, store: NullStore(), catalog: PluginCatalog.load(.defaults(bundledPluginDirectory: "/nonexistent")),
            configuration: .init(host: "127.0.0.1", port: 0, token: "benchmark-token-0123456789", defaultAgentType: "flood"),
            logger: logger
        )
        let listening = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(services: [server.makeApplication { _, port in listening.continuation.yield(port) }], logger: logger)
        let serverTask = Task { try await group.run() }
        var boundPort = 0
        for await p in listening.stream { boundPort = p; break }
        let port = boundPort

        let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
        let adapter = adapters.withLock { $0.last! }
        let total = burst + paced
        let logs = (0..<clients).map { _ in LatencyLog(expected: total) }
        let ready = AsyncStream<Void>.makeStream()
        var clientTasks: [Task<Void, Never>] = []
        for c in 0..<clients {
            let log = logs[c]
            clientTasks.append(Task {
                _ = try? await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)/v1/live/bench?token=benchmark-token-0123456789",
                    configuration: .init(maxFrameSize: 1 << 20), logger: logger
                ) { inbound, outbound, _ in
                    try await outbound.write(.text(#"{"type":"connect","sessionId":"\#(id)"}"#))
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        if text.contains("Connected to session") { ready.continuation.yield() }
                        // Stamped messages carry the emit time: `"content":"t=<ns>"`.
                        if let range = text.range(of: "\"content\":\"t=") {
                            let digits = text[range.upperBound...].prefix { $0.isNumber }
                            if let stamp = UInt64(digits) { log.record(stamp) }
                            if log.latencies.count == total { return }
                        }
                    }
                }
            })
        }
        var readyCount = 0
        for await _ in ready.stream {
            readyCount += 1
            if readyCount == clients { break }
        }
        // Burst: throughput.
        let start = ContinuousClock.now
        for _ in 0..<burst {
            adapter.channel.emit(ChatMessage(type: .assistant, content: "t=\(DispatchTime.now().uptimeNanoseconds)"))
        }
        while logs.contains(where: { $0.latencies.count < burst }) { try await Task.sleep(for: .milliseconds(1)) }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // Paced: latency at a rate the daemon sustains (1 ms apart for one client, 10 ms for 100),
        // so it measures delivery, not a queue.
        let gap: Duration = clients == 1 ? .milliseconds(1) : .milliseconds(10)
        for _ in 0..<paced {
            adapter.channel.emit(ChatMessage(type: .assistant, content: "t=\(DispatchTime.now().uptimeNanoseconds)"))
            try await Task.sleep(for: gap)
        }
        for log in logs { for await _ in log.finished {} }
        let pacedLatencies = logs.flatMap { $0.latencies.suffix(paced) }.sorted()
        let framesPerSecond = Double(burst * clients) / seconds
        print("   \((String(clients) + (logged ? " log" : "")).padding(toLength: 7, withPad: " ", startingAt: 0))  \(String(format: "%9.0f", framesPerSecond)) frames/s (\(String(format: "%6.0f", Double(burst) / seconds)) messages/s)   1 per \(clients == 1 ? "1" : "10") ms: \(formatNs(percentile(pacedLatencies, 0.5))) / \(formatNs(percentile(pacedLatencies, 0.99)))")
        for task in clientTasks { task.cancel() }
        for task in clientTasks { await task.value }
        await manager.disposeAll()
        await group.triggerGracefulShutdown()
        _ = await serverTask.result
    }
}
