// Session store benchmarks: the per-operation cost of the SQLite store as it grows.

import Foundation
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardTesting

/// What the original system paid per link at 10k sessions (it rewrote a JSON file).
private let originalLinkAt10k = 19_000_000.0  // ns

/// Measures create, link, find-by-agent-id and list-one-workspace on a SQLite store in a
/// temporary directory, filled to 1k, 10k and 100k sessions (quick: 1k and 10k), and
/// prints the median time per operation — once as shipped (every commit synced to disk),
/// once without the sync, to show what durability costs on this disk.
func runStoreBenchmarks(quick: Bool) async throws {
    let sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]
    let operations = 200
    let perWorkspace = 50
    print("")
    print("Session store: SQLite in WAL mode, one file in a temporary directory.")
    print("   Median of \(operations) operations, each timed alone, after filling the store to the size;")
    print("   sessions are spread over workspaces of \(perWorkspace), so list-one-workspace returns \(perWorkspace) records.")
    var linkAt10k: [Bool: Double] = [:]
    for sync in [true, false] {
        print("")
        print(sync
            ? "   As shipped: synchronous=FULL, every commit is synced to disk before it returns"
            : "   For comparison: synchronous=NORMAL, no sync per commit (survives a crash, not a power loss)")
        print("   sessions   fill (1 tx)   create      get-by-id   link        find-by-agent   list-one-workspace   open (checks)   file")
        for size in sizes {
            let row = try await measure(size: size, sync: sync, operations: operations, perWorkspace: perWorkspace)
            if size == 10_000 { linkAt10k[sync] = row.link }
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
            print("   \(pad(benchGrouped(size), 11))\(pad(benchFormat(row.fill), 14))\(pad(benchFormat(row.create), 12))\(pad(benchFormat(row.get), 12))\(pad(benchFormat(row.link), 12))\(pad(benchFormat(row.find), 16))\(pad(benchFormat(row.list), 21))\(pad(benchFormat(row.open), 16))\(String(format: "%.1f MB", Double(row.fileBytes) / 1e6))")
        }
    }
    if let full = linkAt10k[true], let normal = linkAt10k[false] {
        print("")
        print("   link at 10k sessions: \(benchFormat(full)) synced (\(benchFormat(normal)) unsynced) vs the original system's 19 ms, which rewrote the whole JSON file: \(String(format: "%.0f", originalLinkAt10k / full))x (\(String(format: "%.0f", originalLinkAt10k / normal))x) faster")
    }
}

/// One row of the table.
private struct StoreBenchRow {
    var fill, create, get, link, find, list, open: Double
    var fileBytes: Int
}

private func measure(size: Int, sync: Bool, operations: Int, perWorkspace: Int) async throws -> StoreBenchRow {
    let scratch = NSTemporaryDirectory() + "switchboard-store-bench-\(getpid())-\(size)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let path = scratch + "/sessions.sqlite"
    let store = try SQLiteSessionStore(path: path, syncEveryCommit: sync)

    let fillStart = ContinuousClock.now
    _ = try await store.insertAll(benchRecords(size: size, perWorkspace: perWorkspace))
    let fill = benchNanoseconds(ContinuousClock.now - fillStart)
    let ops = try await measureOperations(store, size: size, operations: operations, perWorkspace: perWorkspace)
    // Opening again runs quick_check over the whole file.
    let openStart = ContinuousClock.now
    _ = try SQLiteSessionStore(path: path, syncEveryCommit: sync)
    let open = benchNanoseconds(ContinuousClock.now - openStart)
    let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    return StoreBenchRow(fill: fill, create: ops.create, get: ops.get, link: ops.link, find: ops.find, list: ops.list, open: open, fileBytes: fileBytes)
}

/// The same operations on the PostgreSQL store (`--postgres`): a private cluster on loopback
/// (initdb in a temporary directory, fsync on, as a server would run), filled to 10k and
/// 100k sessions (quick: 10k). Without PostgreSQL installed it prints a note and returns.
func runPostgresStoreBenchmarks(quick: Bool) async throws {
    let sizes = quick ? [10_000] : [10_000, 100_000]
    let operations = 200
    let perWorkspace = 50
    print("")
    guard PostgresCluster.isAvailable else {
        print("Session store on PostgreSQL: skipped (no initdb/pg_ctl found; install Debian's postgresql).")
        return
    }
    let cluster = try await PostgresCluster.start(fsync: true)
    defer { cluster.shutDown() }
    print("Session store: PostgreSQL on loopback (a private cluster, fsync on, synchronous_commit on), a pool of 4 connections.")
    print("   Median of \(operations) operations, each timed alone, after filling the store to the size;")
    print("   sessions are spread over workspaces of \(perWorkspace), so list-one-workspace returns \(perWorkspace) records.")
    print("   sessions   fill          create      get         link        find-by-agent   list-one-workspace")
    for size in sizes {
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        let store = try await PostgresSessionStore.open(url, options: .init(poolSize: 4))
        let records = benchRecords(size: size, perWorkspace: perWorkspace)
        let fillStart = ContinuousClock.now
        for start in stride(from: 0, to: size, by: 5_000) {
            _ = try await store.insertAll(Array(records[start..<min(start + 5_000, size)]))
        }
        let fill = benchNanoseconds(ContinuousClock.now - fillStart)
        let ops = try await measureOperations(store, size: size, operations: operations, perWorkspace: perWorkspace)
        await store.close()
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        print("   \(pad(benchGrouped(size), 11))\(pad(benchFormat(fill), 14))\(pad(benchFormat(ops.create), 12))\(pad(benchFormat(ops.get), 12))\(pad(benchFormat(ops.link), 12))\(pad(benchFormat(ops.find), 16))\(benchFormat(ops.list))")
    }
    try await cluster.stopServer()
}

/// When the benchmark's sessions were made (epoch ms); later operations come after it.
private let benchBase: Int64 = 1_736_000_000_000

/// `size` sessions spread over workspaces of `perWorkspace`, each with an agent session id.
private func benchRecords(size: Int, perWorkspace: Int) -> [SessionRecord] {
    (0..<size).map { i in
        SessionRecord(
            id: "session-\(i)", workspaceName: "ws-\(i / perWorkspace)", agentType: i % 3 == 0 ? "codex" : "claude",
            agentSessionId: "agent-\(i)", projectPath: "/home/workspace/project-\(i % 17)",
            createdAt: benchBase + Int64(i) * 1_000, lastActivity: benchBase + Int64(i) * 1_000
        )
    }
}

/// The median time of each store operation on a store filled with ``benchRecords(size:perWorkspace:)``.
private struct OperationTimes {
    var create, get, link, find, list: Double
}

/// Times create, get-by-id, find-by-agent, list-one-workspace and link, `operations` each,
/// on a fixed pseudo-random sequence of existing sessions; checks every answer.
private func measureOperations(_ store: any SessionStore, size: Int, operations: Int, perWorkspace: Int) async throws -> OperationTimes {
    // With two for warming up.
    var generator = BenchRandom(seed: UInt64(size))
    let picks = (0..<operations + 2).map { _ in Int(generator.next() % UInt64(size)) }
    let now = benchBase + Int64(size) * 1_000
    let create = try await benchMedian(operations) { j in
        try await store.create(SessionRecord(id: "bench-new-\(j)", workspaceName: "ws-bench", agentType: "claude",
                                             createdAt: now + Int64(j), lastActivity: now + Int64(j)))
    }
    let get = try await benchMedian(operations) { j in
        guard try await store.get("session-\(picks[j])")?.agentSessionId == "agent-\(picks[j])" else {
            throw BenchFailure(message: "get(session-\(picks[j])) did not return that session")
        }
    }
    let find = try await benchMedian(operations) { j in
        guard try await store.find(agentSessionId: "agent-\(picks[j])")?.id == "session-\(picks[j])" else {
            throw BenchFailure(message: "find(agentSessionId: agent-\(picks[j])) did not find session-\(picks[j])")
        }
    }
    let list = try await benchMedian(operations) { j in
        let workspace = "ws-\(picks[j] / perWorkspace)"
        guard try await store.list(workspace: workspace).count == min(perWorkspace, size) else {
            throw BenchFailure(message: "list(workspace: \(workspace)) did not return the workspace's sessions")
        }
    }
    let link = try await benchMedian(operations) { j in
        try await store.linkAgentSession("session-\(picks[j])", agentSessionId: "agent-relinked-\(j)", at: now + Int64(j))
    }
    return OperationTimes(create: create, get: get, link: link, find: find, list: list)
}

/// A benchmark that found the store answering wrongly.
private struct BenchFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The median time of `count` runs of `body`, each timed alone, after two warm-up runs
/// (with indexes past the measured ones).
private func benchMedian(_ count: Int, _ body: (Int) async throws -> Void) async throws -> Double {
    try await body(count)
    try await body(count + 1)
    var times: [Double] = []
    times.reserveCapacity(count)
    for j in 0..<count {
        let start = ContinuousClock.now
        try await body(j)
        times.append(benchNanoseconds(ContinuousClock.now - start))
    }
    times.sort()
    return times[times.count / 2]
}

private func benchNanoseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

private func benchFormat(_ ns: Double) -> String {
    ns >= 1e9 ? String(format: "%.2f s", ns / 1e9)
        : ns >= 1e6 ? String(format: "%.2f ms", ns / 1e6)
        : ns >= 1e3 ? String(format: "%.1f µs", ns / 1e3)
        : String(format: "%.0f ns", ns)
}

private func benchGrouped(_ n: Int) -> String {
    n >= 1_000_000 ? "\(n / 1_000_000)M" : n >= 1_000 ? "\(n / 1_000)k" : "\(n)"
}

/// SplitMix64: a reproducible sequence, so every run touches the same sessions.
private struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
