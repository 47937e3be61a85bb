import Dispatch
import Foundation
import HummingbirdWSClient
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardServer
import SwitchboardProcess
import SwitchboardSQLite

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine, so a stamp
/// made by the daemon's process can be compared with the time a client process received it.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
}

/// What the client process tells the benchmark, one line each: `ready` once every client is
/// connected; `burst <ns>` when every client has the burst (the monotonic time the last one
/// got its last burst frame); `latency <p50 ns> <p99 ns>` when every client has everything.
enum ClientReport: Sendable, Equatable {
    case ready
    case burst(at: UInt64)
    case latency(p50: Double, p99: Double)
    case failed(String)

    init?(_ line: String) {
        let words = line.split(separator: " ").map(String.init)
        switch words.first {
        case "ready": self = .ready
        case "burst": guard words.count == 2, let at = UInt64(words[1]) else { return nil }; self = .burst(at: at)
        case "latency":
            guard words.count == 3, let p50 = Double(words[1]), let p99 = Double(words[2]) else { return nil }
            self = .latency(p50: p50, p99: p99)
        case "failed": self = .failed(words.dropFirst().joined(separator: " "))
        default: return nil
        }
    }
}

/// The path of this executable, to start it again as the client process.
func ownExecutablePath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

func runWebSocketBenchmarks(quick: Bool) async throws {
    print("")
    print("7. WebSocket delivery through the daemon (adapter event -> session manager -> WebSocket -> client);")
    print("   the clients run in another process (this executable with --websocket-client), so the daemon")
    print("   has a core of its own as far as 2 cores allow")
    let logger: Logger = {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        return logger
    }()
    let flood = try FloodRegistry()
    let registry = flood.registry
    let paced = quick ? 300 : 2_000
    print("   (\"log\": with the SQLite event log; else a store that keeps nothing, as in earlier builds)")
    print("   clients  burst: frames/s delivered (messages/s)         paced (\(paced) messages): p50 / p99 latency")
    let scratch = NSTemporaryDirectory() + "switchboard-ws-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let token = "benchmark-token-0123456789"
    let rows: [(clients: Int, logged: Bool)] = [(1, false), (1, true), (100, false), (100, true)]
    for (clients, logged) in rows {
        let burst = clients == 1 ? (quick ? 20_000 : 100_000) : (quick ? 2_000 : 10_000)
        // Without a log (NullStore) the figures compare with earlier builds; with the SQLite
        // event log they are what the daemon does.
        let store: any SessionStore = logged ? try SQLiteSessionStore(path: scratch + "/ws-\(clients).sqlite") : NullStore()
        let manager = SessionManager(registry: registry, store: store, configuration: .init(clientQueueLimit: burst + paced + 100), logger: logger)
        let server = SwitchboardServer(
            manager: manager, store: NullStore(), catalog: PluginCatalog.load(.defaults(bundledPluginDirectory: "/nonexistent")),
            configuration: .init(host: "127.0.0.1", port: 0, token: token, defaultAgentType: "flood"),
            logger: logger
        )
        let listening = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(services: [server.makeApplication { _, port in listening.continuation.yield(port) }], logger: logger)
        let serverTask = Task { try await group.run() }
        var boundPort = 0
        for await p in listening.stream { boundPort = p; break }

        let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
        let adapter = try flood.last
        let gap: Duration = clients == 1 ? .milliseconds(1) : .milliseconds(10)
        let figures = try await measureWebSocketClients(
            port: boundPort, token: token, sessionId: id, clients: clients, burst: burst, paced: paced, gap: gap
        ) { adapter.channel.emit(ChatMessage(type: .assistant, content: "t=\(monotonicNanoseconds())")) }
        print("   \((String(clients) + (logged ? " log" : "")).padding(toLength: 7, withPad: " ", startingAt: 0))  \(String(format: "%9.0f", figures.framesPerSecond)) frames/s (\(String(format: "%7.0f", figures.messagesPerSecond)) messages/s, burst of \(burst))   1 per \(clients == 1 ? "1" : "10") ms: \(formatNs(figures.p50)) / \(formatNs(figures.p99))")
        await manager.disposeAll()
        await group.triggerGracefulShutdown()
        _ = await serverTask.result
    }
}

/// What a client process measured: the burst's delivery rate, and the paced latencies.
struct ClientFigures {
    var framesPerSecond: Double
    var messagesPerSecond: Double
    var p50: Double
    var p99: Double
}

/// Runs `clients` WebSocket clients of `sessionId` in another process (this executable with
/// `--websocket-client`), emits a burst of `burst` stamped messages and then `paced` more,
/// `gap` apart, through `emit` (which makes one `"t=<ns>"` message), and returns the figures.
func measureWebSocketClients(
    port: Int, token: String, sessionId: String, clients: Int, burst: Int, paced: Int, gap: Duration,
    emit: @Sendable () -> Void
) async throws -> ClientFigures {
    let reports = AsyncStream<ClientReport>.makeStream()
    let launch = ProcessLaunch(
        program: ownExecutablePath(),
        arguments: ["--websocket-client", String(port), token, sessionId, String(clients), String(burst), String(paced)],
        role: "WebSocket client process"
    )
    // The client process's reports; its exit ends them, and a watchdog stops a process that
    // hangs, so no step waits forever.
    let process = try await AgentProcess.start(launch, onLine: { line in
        if let text = line.string, let report = ClientReport(text) { reports.continuation.yield(report) }
    }, onExit: { _ in reports.continuation.finish() })
    let watchdog = Task {
        try await Task.sleep(for: .seconds(300))
        process.signalGroup(SIGKILL)
    }
    defer { watchdog.cancel() }
    var iterator = reports.stream.makeAsyncIterator()
    func next() async throws -> ClientReport {
        guard let report = await iterator.next() else {
            throw BenchmarkError("the WebSocket client process ended early: \(process.recentStandardError.joined(separator: " | "))")
        }
        if case .failed(let why) = report { throw BenchmarkError("the WebSocket client process failed: \(why)") }
        return report
    }
    let measured = await { () async -> Result<ClientFigures, any Error> in
        do {
            guard try await next() == .ready else { throw BenchmarkError("expected ready") }
            // Burst: throughput.
            let start = monotonicNanoseconds()
            for _ in 0..<burst { emit() }
            guard case .burst(let doneAt) = try await next() else { throw BenchmarkError("expected the burst's end") }
            let seconds = Double(doneAt &- start) / 1e9
            // Paced: latency at a rate the daemon sustains, so it measures delivery, not a queue.
            for _ in 0..<paced {
                emit()
                try await Task.sleep(for: gap)
            }
            guard case .latency(let p50, let p99) = try await next() else { throw BenchmarkError("expected the latencies") }
            return .success(ClientFigures(
                framesPerSecond: Double(burst * clients) / seconds, messagesPerSecond: Double(burst) / seconds, p50: p50, p99: p99
            ))
        } catch {
            return .failure(error)
        }
    }()
    _ = await process.stop(.grace(.seconds(5)))
    return try measured.get()
}

/// What one client process keeps: per client, how many stamped frames it has, and the
/// latencies of the paced ones.
private final class ClientTally: Sendable {
    private struct State {
        var ready = 0
        var counts: [Int]
        var burstDone = 0
        var burstDoneAt: UInt64 = 0
        var finished = 0
        var latencies: [UInt64] = []
    }
    private let state: Mutex<State>
    let clients: Int, burst: Int, paced: Int

    init(clients: Int, burst: Int, paced: Int) {
        self.clients = clients
        self.burst = burst
        self.paced = paced
        state = Mutex(State(counts: Array(repeating: 0, count: clients)))
        state.withLock { $0.latencies.reserveCapacity(clients * paced) }
    }

    func connected() {
        let all = state.withLock { s -> Bool in s.ready += 1; return s.ready == clients }
        if all { say("ready") }
    }

    /// Records a stamped frame for `client`; returns true when that client has everything.
    func received(by client: Int, stamp: UInt64) -> Bool {
        let now = monotonicNanoseconds()
        var lines: [String] = []
        let complete = state.withLock { s -> Bool in
            s.counts[client] += 1
            let n = s.counts[client]
            if n == burst {
                s.burstDone += 1
                s.burstDoneAt = max(s.burstDoneAt, now)
                if s.burstDone == clients { lines.append("burst \(s.burstDoneAt)") }
            }
            if n > burst { s.latencies.append(now &- stamp) }
            guard n == burst + paced else { return false }
            s.finished += 1
            if s.finished == clients {
                let sorted = s.latencies.sorted()
                lines.append("latency \(percentile(sorted, 0.5)) \(percentile(sorted, 0.99))")
            }
            return true
        }
        for line in lines { say(line) }
        return complete
    }
}

/// Writes a report line to stdout at once (unbuffered: the benchmark is waiting for it).
/// The emit time a stamped message carries (`"content":"t=<ns>"`), found in the frame's
/// UTF-8 as a client that knows its frames would: Foundation's `range(of:)` cost the client
/// process more than the server spent on the frame.
func emitStamp(in text: String) -> UInt64? {
    var text = text
    return text.withUTF8 { bytes -> UInt64? in
        let needle: StaticString = #""content":"t="#
        let count = needle.utf8CodeUnitCount
        guard bytes.count >= count else { return nil }
        return needle.withUTF8Buffer { needle -> UInt64? in
            var start = 0
            while start + count <= bytes.count {
                if bytes[start] == needle[0], UnsafeBufferPointer(rebasing: bytes[start..<start + count]).elementsEqual(needle) {
                    var value: UInt64 = 0, at = start + count
                    while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
                        value = value &* 10 &+ UInt64(bytes[at] - UInt8(ascii: "0"))
                        at += 1
                    }
                    return value
                }
                start += 1
            }
            return nil
        }
    }
}

private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// `--websocket-client PORT TOKEN SESSION CLIENTS BURST PACED`: the benchmark's clients, in a
/// process of their own; reports on stdout (see ``ClientReport``).
func runWebSocketClientProcess(_ arguments: [String]) async -> Int32 {
    guard arguments.count >= 6, let port = Int(arguments[0]), (1...65535).contains(port),
          let clients = Int(arguments[3]), (1...10_000).contains(clients),
          let burst = Int(arguments[4]), burst > 0, let paced = Int(arguments[5]), paced >= 0
    else {
        say("failed usage: --websocket-client PORT TOKEN SESSION CLIENTS BURST PACED")
        return 2
    }
    let token = arguments[1], sessionId = arguments[2]
    let logger = Logger(label: "bench-client") { _ in SwiftLogNoOpLogHandler() }
    let tally = ClientTally(clients: clients, burst: burst, paced: paced)
    let failed = await withTaskGroup(of: String?.self) { group -> String? in
        for c in 0..<clients {
            group.addTask {
                do {
                    try await WebSocketClient.connect(
                        url: "ws://127.0.0.1:\(port)/v1/live/bench?token=\(token)",
                        configuration: .init(maxFrameSize: 1 << 20), logger: logger
                    ) { inbound, outbound, _ in
                        try await outbound.write(.text(#"{"type":"connect","sessionId":"\#(sessionId)"}"#))
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message else { continue }
                            if let stamp = emitStamp(in: text) {
                                if tally.received(by: c, stamp: stamp) { return }
                            } else if text.contains("Connected to session") {
                                tally.connected()
                            }
                        }
                    }
                    return nil
                } catch {
                    return "client \(c): \(error)"
                }
            }
        }
        for await result in group {
            if let result { group.cancelAll(); return result }
        }
        return nil
    }
    if let failed {
        say("failed \(failed)")
        return 1
    }
    return 0
}
