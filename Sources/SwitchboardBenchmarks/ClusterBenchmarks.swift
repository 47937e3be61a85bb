import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardServer
import SwitchboardTesting

/// Two nodes on one PostgreSQL (a private cluster on loopback, fsync on), in this process:
/// WebSocket delivery to a client of the owner against a client of the other node (which reads
/// the shared log when NOTIFY says there is more), and the takeover time when the owner stops
/// renewing its lease.
func runClusterBenchmarks(quick: Bool) async throws {
    print("")
    print("12. Cluster: two nodes on one PostgreSQL (private cluster on loopback, fsync on); the client in another process")
    guard PostgresCluster.isAvailable else {
        print("   skipped (no initdb/pg_ctl found; install Debian's postgresql)")
        return
    }
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let postgres = try await PostgresCluster.start(fsync: true)
    defer { postgres.shutDown() }
    let url = try DatabaseURL(parsing: try await postgres.createDatabase())
    var options = PostgresSessionStore.Options(poolSize: 4)
    options.notifyFrames = true
    let storeA = try await PostgresSessionStore.open(url, options: options)
    let storeB = try await PostgresSessionStore.open(url, options: options)
    let flood = try FloodRegistry()
    let burst = quick ? 5_000 : 20_000
    let paced = quick ? 300 : 1_000
    let lease = 3
    let token = "benchmark-token-0123456789"
    let configuration = SessionManager.Configuration(clientQueueLimit: 2 * (burst + paced) + 100)
    let nodeA = ClusterNode(settings: ClusterSettings(nodeId: "bench-a", leaseSeconds: lease), backplane: PostgresBackplane(store: storeA), logger: logger)
    let nodeB = ClusterNode(settings: ClusterSettings(nodeId: "bench-b", leaseSeconds: lease), backplane: PostgresBackplane(store: storeB), logger: logger)
    let managerA = SessionManager(registry: flood.registry, store: storeA, configuration: configuration, cluster: nodeA, logger: logger)
    let managerB = SessionManager(registry: flood.registry, store: storeB, configuration: configuration, cluster: nodeB, logger: logger)
    let runA = Task { try await nodeA.run(managerA, leaves: false) }
    let runB = Task { try await nodeB.run(managerB) }
    var servers: [(ServiceGroup, Task<Void, any Error>)] = []
    var ports: [Int] = []
    for (manager, store, node) in [(managerA, storeA, nodeA), (managerB, storeB, nodeB)] {
        let server = SwitchboardServer(
            manager: manager, store: store, catalog: PluginCatalog.load(.defaults(bundledPluginDirectory: "/nonexistent")),
            configuration: .init(host: "127.0.0.1", port: 0, token: token, defaultAgentType: "flood"), cluster: node, logger: logger
        )
        let listening = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(services: [server.makeApplication { _, port in listening.continuation.yield(port) }], logger: logger)
        servers.append((group, Task { try await group.run() }))
        for await port in listening.stream { ports.append(port); break }
    }
    let measured = await { () async -> Result<Void, any Error> in
        do {
            print("   client of     burst: frames/s (burst of \(burst))   paced (\(paced), 1 per ms): p50 / p99 adapter event -> client")
            var rates: [Double] = []
            var p50s: [Double] = []
            var id = ""
            for (label, port) in [("the owner", ports[0]), ("node B", ports[1])] {
                // A session of its own for each client: a connecting client is replayed the
                // ring, and stamped frames of the other's run would count as its own.
                id = try await managerA.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
                let adapter = try flood.last
                let figures = try await measureWebSocketClients(
                    port: port, token: token, sessionId: id, clients: 1, burst: burst, paced: paced, gap: .milliseconds(1)
                ) { adapter.channel.emit(ChatMessage(type: .assistant, content: "t=\(monotonicNanoseconds())")) }
                rates.append(figures.framesPerSecond)
                p50s.append(figures.p50)
                print("   \(label.padding(toLength: 12, withPad: " ", startingAt: 0))  \(String(format: "%9.0f", figures.framesPerSecond)) frames/s                  \(formatNs(figures.p50)) / \(formatNs(figures.p99))")
            }
            print("   node B / owner: \(String(format: "%.2f", rates[1] / rates[0]))× the rate, +\(formatNs(p50s[1] - p50s[0])) at p50")

            // Takeover: node A stops renewing (as if killed); B has a client, so it takes over.
            let moved = OneShot<UInt64>()
            let client = SessionClient(
                send: { frame in
                    if frame.message.content.contains("runs this session now") { moved.set(monotonicNanoseconds()) }
                },
                sendBatch: { frames in
                    for frame in frames where frame.message.content.contains("runs this session now") { moved.set(monotonicNanoseconds()) }
                },
                onDisconnect: { _ in }
            )
            guard try await managerB.find(id) != nil, await managerB.connect(id, client: client) != nil else {
                throw BenchmarkError("node B could not follow the session")
            }
            let stopped = monotonicNanoseconds()
            runA.cancel()
            guard let at = await moved.wait(within: .seconds(Int64(lease) * 4 + 30)) else { throw BenchmarkError("node B did not take the session over") }
            print("   takeover: node A stops renewing -> node B's first frame: \(formatNs(Double(at &- stopped))) (lease \(lease) s, heartbeat every \(lease * 1000 / 3) ms)")
            return .success(())
        } catch {
            return .failure(error)
        }
    }()
    runA.cancel()
    runB.cancel()
    _ = await runA.result
    _ = await runB.result
    await managerA.disposeAll()
    await managerB.disposeAll()
    for (group, task) in servers {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
    await storeA.close()
    await storeB.close()
    try measured.get()
}
