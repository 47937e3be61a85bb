import Foundation
import NIOHTTP1
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// The crashy C plugin, built once per test run.
enum Crashy {
    private static let built = Mutex<String?>(nil)

    static var source: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/crashy_plugin.c").path
    }

    /// `libcrashy.so`, compiled with the system C compiler against the header.
    static func plugin() throws -> String {
        if let path = built.withLock({ $0 }) { return path }
        let dir = try TemporaryDirectory(prefix: "switchboard-crashy")
        let output = dir.path + "/libcrashy.so"
        try CPluginCompiler.build(source: source, output: output)
        built.withLock { $0 = output }
        return output
    }
}

/// Waits until `condition` holds, checking every 50 ms, or fails after `timeout`.
func eventually(_ what: String, within timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw DaemonError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

extension LiveDaemon {
    /// Starts a session of `agentType` in workspace `w`; its id.
    func startSession(_ agentType: String) async throws -> String {
        let answer = try await http(.POST, "/v1/sessions", body: #"{"workspace":"w","agentType":"\#(agentType)"}"#)
        guard answer.status == 201, let id = answer.body["sessionId"]?.stringValue else {
            throw DaemonError("starting a '\(agentType)' session: \(answer.status) \(answer.body.jsonText)")
        }
        return id
    }

    /// Sends a message; the HTTP status.
    @discardableResult
    func say(_ session: String, _ text: String) async throws -> Int {
        try await http(.POST, "/v1/sessions/\(session)/messages", body: JSONValue.object(["content": .string(text)]).jsonText).status
    }

    /// The session's buffered frames.
    func frames(_ session: String) async throws -> [JSONValue] {
        // The history comes in pages (at most 5000 frames each); a flood has more than one.
        var all: [JSONValue] = []
        var after = 0
        while true {
            let page = try await http(.GET, "/v1/sessions/\(session)/messages?after=\(after)&limit=5000").body.arrayValue ?? []
            all += page
            guard page.count == 5000, let last = page.last?["seq"]?.intValue else { return all }
            after = last
        }
    }

    /// The session's status (`idle`, `error`, …).
    func status(_ session: String) async throws -> String? {
        try await http(.GET, "/v1/sessions/\(session)").body["status"]?.stringValue
    }

    /// Waits for an `error` frame whose content satisfies `predicate`, and status `error`.
    @discardableResult
    func waitForError(_ session: String, within timeout: Duration = .seconds(30), _ predicate: @escaping (String) -> Bool = { _ in true }) async throws -> String {
        var found: String?
        try await eventually("an error frame on \(session)", within: timeout) {
            let frames = try await self.frames(session)
            found = frames.compactMap { $0["type"] == .string("error") ? $0["content"]?.stringValue : nil }.first(where: predicate)
            return found != nil
        }
        try await eventually("status error on \(session)", within: timeout) { try await self.status(session) == "error" }
        return found ?? ""
    }

    /// Waits for an assistant frame with `content`.
    func waitForReply(_ session: String, _ content: String, within timeout: Duration = .seconds(30)) async throws {
        try await eventually("the reply '\(content)' on \(session)", within: timeout) {
            try await self.frames(session).contains { $0["type"] == .string("assistant") && $0["content"] == .string(content) }
        }
    }

    /// The `/v1/agents` entry of `agentType`.
    func agent(_ agentType: String) async throws -> JSONValue? {
        try await http(.GET, "/v1/agents").body.arrayValue?.first { $0["agentType"] == .string(agentType) }
    }
}

/// Polls `/health` every 100 ms while it runs; records every answer slower than a second
/// (or missing), so a test can say the daemon answered throughout.
final class HealthWatch: Sendable {
    private final class Tally: Sendable {
        let failures = Mutex<[String]>([])
        let checks = Atomic<Int>(0)
    }

    private let tally = Tally()
    private let task: Task<Void, Never>

    init(_ daemon: LiveDaemon) {
        let tally = self.tally
        task = Task {
            while !Task.isCancelled {
                let start = ContinuousClock.now
                do {
                    let answer = try await daemon.http(.GET, "/health")
                    let took = ContinuousClock.now - start
                    // A frozen daemon is what this catches; latency on a loaded 2-core machine
                    // (answers took up to 4.4 s while the whole suite ran) is not asserted.
                    if answer.status != 200 || took > .seconds(10) { tally.failures.withLock { $0.append("status \(answer.status) after \(took)") } }
                } catch where !Task.isCancelled {
                    tally.failures.withLock { $0.append("\(error)") }
                } catch {}
                tally.checks.add(1, ordering: .relaxed)
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Stops polling; what went wrong, and how many checks ran.
    func stop() async -> (failures: [String], checks: Int) {
        task.cancel()
        await task.value
        return (tally.failures.withLock { $0 }, tally.checks.load(ordering: .relaxed))
    }
}

/// A scripted session that streams turn after turn while it runs, over a WebSocket; checks
/// afterwards that every frame arrived, complete and in order.
final class Streamer: Sendable {
    let socket: LiveSocket
    private let task: Task<Void, any Error>
    private let turns = Counter()

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
    static let messagesPerTurn = 50

    static var settings: String {
        let messages = (0..<messagesPerTurn).map { #"{"type":"assistant","content":"part \#($0)"}"# }.joined(separator: ",")
        return #"{"turns":[{"messages":[\#(messages)]}],"loop":true}"#
    }

    init(_ daemon: LiveDaemon) async throws {
        let socket = try await daemon.socket("stream")
        self.socket = socket
        socket.send(["type": .string("connect"), "agentType": .string("scripted")])
        try await socket.waitFor(type: "session_started")
        let counter = turns
        task = Task {
            var turns = 0
            while !Task.isCancelled {
                let before = socket.frames(ofType: "done").count
                socket.send(["type": .string("message"), "content": .string("go \(turns)")])
                _ = try await socket.frames.wait(within: .seconds(60)) { items in
                    items.filter { $0["type"] == .string("done") }.count > before
                }
                turns += 1
                counter.value.store(turns, ordering: .relaxed)
            }
        }
    }

    /// Stops after the current turn; the number of turns, and the problems found.
    func stop() async throws -> (turns: Int, problems: [String]) {
        task.cancel()
        _ = try? await task.value
        let turns = self.turns.value.load(ordering: .relaxed)
        var problems: [String] = []
        let sequenced = socket.frames.items.compactMap { frame -> (Int, JSONValue)? in
            guard let seq = frame["seq"]?.intValue else { return nil }
            return (seq, frame)
        }
        for (a, b) in zip(sequenced, sequenced.dropFirst()) where b.0 != a.0 + 1 {
            problems.append("seq \(a.0) was followed by \(b.0)")
        }
        // Every finished turn has all its parts, in order.
        var parts: [String] = []
        for (_, frame) in sequenced {
            if frame["type"] == .string("assistant"), let content = frame["content"]?.stringValue { parts.append(content) }
            if frame["type"] == .string("done") {
                if parts != (0..<Self.messagesPerTurn).map({ "part \($0)" }) { problems.append("a turn had \(parts.count) parts out of order or missing") }
                parts = []
            }
        }
        await socket.close()
        return (turns, problems)
    }
}
