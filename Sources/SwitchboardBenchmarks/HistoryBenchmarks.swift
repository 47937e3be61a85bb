// Event log benchmarks: how fast frames reach the log, how fast a restored session replays
// from it, and whether a history page stays flat as the log grows.

import Foundation
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardSQLite

/// A scratch directory removed when the benchmark ends.
private func scratchDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "switchboard-\(name)-bench-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// A realistic logged frame: a streamed assistant delta with its wire text.
private func loggedFrame(_ seq: Int, session: String, at time: Int64) -> LoggedFrame {
    let frame = SessionFrame(seq: seq, message: ChatMessage(type: .assistant, content: "Here is the change you asked for \(seq).", messageId: "msg_01XFDUDYJgAACzvnptvVoYEL"))
    return LoggedFrame(sessionId: session, seq: seq, kind: .message, json: frame.wireText, createdAt: time)
}

/// Fills `store`'s log with `count` frames of `session`, in transactions of 5000.
private func fill(_ store: SQLiteSessionStore, session: String, count: Int, from start: Int = 0) async throws {
    var seq = start
    while seq < start + count {
        let end = min(seq + 5_000, start + count)
        try await store.appendFrames((seq..<end).map { loggedFrame($0, session: session, at: 1_000 + Int64($0)) })
        seq = end
    }
}

func runHistoryBenchmarks(quick: Bool) async throws {
    print("")
    print("8. The event log (SQLite, WAL, synchronous=NORMAL, a file of its own)")

    // a) The store alone: frames appended per second by transaction size.
    let scratch = try scratchDirectory("history")
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let total = quick ? 20_000 : 100_000
    print("   a) appendFrames, \(total) frames of ~150 bytes, by frames per transaction:")
    for batch in [1, 16, 256, 4096] where batch > 1 || !quick {
        let store = try SQLiteSessionStore(path: scratch + "/append-\(batch).sqlite")
        let count = batch == 1 ? total / 20 : total
        let frames = (0..<count).map { loggedFrame($0, session: "s", at: 1_000) }
        let start = ContinuousClock.now
        var index = 0
        while index < count {
            try await store.appendFrames(Array(frames[index..<min(index + batch, count)]))
            index += batch
        }
        let elapsed = seconds(ContinuousClock.now - start)
        print("      \(String(batch).padding(toLength: 5, withPad: " ", startingAt: 0)) per transaction: \(String(format: "%9.0f", Double(count) / elapsed)) frames/s")
    }

    // b) Through the session manager: emit → log (group commit) → delivered to a client,
    //    against the same manager with a store that keeps nothing.
    print("   b) a streaming turn through the session manager, one client (emit → logged → delivered):")
    let flood = try FloodRegistry()
    let registry = flood.registry
    let messages = quick ? 20_000 : 100_000
    var rates: [String: Double] = [:]
    for (label, store) in [("no log (NullStore)", NullStore() as any SessionStore),
                           ("event log (SQLite)", try SQLiteSessionStore(path: scratch + "/manager.sqlite") as any SessionStore)] {
        let manager = SessionManager(registry: registry, store: store, configuration: .init(clientQueueLimit: messages + 10), logger: quiet)
        let id = try await manager.start(SessionStartOptions(workspaceName: "bench", agentType: "flood"))
        let adapter = try flood.last
        let counter = FanOutCounter(clients: 1, target: messages + 1)
        _ = await manager.connect(id, client: counter.client(0))
        let message = ChatMessage(type: .assistant, content: "Here is the change you asked for.", messageId: "msg_1")
        let start = ContinuousClock.now
        for _ in 0..<messages { adapter.channel.emit(message) }
        for await _ in counter.finished {}
        let rate = Double(messages) / seconds(ContinuousClock.now - start)
        rates[label] = rate
        print("      \(label.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%9.0f", rate)) frames/s")
        await manager.disposeAll()
    }
    if let with = rates["event log (SQLite)"], let without = rates["no log (NullStore)"] {
        print("      the log costs \(String(format: "%.0f", (1 - with / without) * 100))% of the manager's rate (goal: at least 50,000 frames/s logged)")
    }

    // c) Resume after a restart: a new manager restores the session and a client asks for the
    //    1000 frames before the newest, which (ring of 1 frame) all come from the log.
    print("   c) resume after a restart: restore the session, then replay 1,000 frames to a client")
    let logged = quick ? 5_000 : 20_000
    let resumeStore = try SQLiteSessionStore(path: scratch + "/resume.sqlite")
    try await resumeStore.create(SessionRecord(id: "restored", workspaceName: "bench", agentType: "flood", createdAt: 1, lastActivity: 1))
    try await fill(resumeStore, session: "restored", count: logged)
    for (label, ring) in [("from the log (ring of 1)", 1), ("from the ring (ring of 1000)", 1_000)] {
        var restores: [Double] = []
        var replays: [Double] = []
        for _ in 0..<(quick ? 5 : 11) {
            let manager = SessionManager(registry: registry, store: resumeStore, configuration: .init(messageBufferSize: ring), logger: quiet)
            let start = ContinuousClock.now
            _ = try await manager.find("restored")
            let restored = ContinuousClock.now
            let counter = FanOutCounter(clients: 1, target: 1_001)
            _ = await manager.connect("restored", client: counter.client(0), resumeFrom: logged - 1_001)
            for await _ in counter.finished {}
            restores.append(seconds(restored - start) * 1e9)
            replays.append(seconds(ContinuousClock.now - restored) * 1e9)
            await manager.disposeAll()
        }
        print("      \(label.padding(toLength: 30, withPad: " ", startingAt: 0)) restore \(formatNs(median(restores))), replay of 1,000 frames \(formatNs(median(replays)))")
    }

    // d) A history page (500 frames from the middle) as the log grows.
    print("   d) one history page of 500 frames (GET …/messages?after=N&limit=500, the store's part), by frames in the log:")
    let pageStore = try SQLiteSessionStore(path: scratch + "/pages.sqlite")
    var stored = 0
    for size in quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000] {
        try await fill(pageStore, session: "big", count: size - stored, from: stored)
        stored = size
        // Other sessions' frames too, so the page is found among them.
        try await fill(pageStore, session: "other-\(size)", count: size / 10)
        var times: [Double] = []
        for i in 0..<51 {
            let after = (size / 51) * i
            let start = ContinuousClock.now
            let page = try await pageStore.frames("big", after: after, limit: 500)
            times.append(seconds(ContinuousClock.now - start) * 1e9)
            guard page.first?.seq == after + 1 else { throw BenchmarkError("the page after \(after) starts at \(page.first?.seq ?? -1)") }
        }
        print("      \(String(size).padding(toLength: 9, withPad: " ", startingAt: 0)) frames: \(formatNs(median(times))) per page")
    }
}
