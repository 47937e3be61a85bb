import Foundation
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// Records, per API message id, when a client first received an `assistant` message of it,
/// and every end of a turn (a status notice other than `running`).
final class FirstDeltaClock: Sendable {
    private let seen = Mutex<[String: ContinuousClock.Instant]>([:])
    let arrivals = Recorder<String>()
    let turnEnds = Recorder<String>()
    var client: SessionClient {
        SessionClient(send: { [self] frame in
            if let status = frame.notice?.status, status != .running { turnEnds.append(status.rawValue) }
            let message = frame.message
            guard message.type == .assistant, let id = message.messageId else { return }
            let now = ContinuousClock.now
            let first = seen.withLock { s -> Bool in
                guard s[id] == nil else { return false }
                s[id] = now
                return true
            }
            if first { arrivals.append(id) }
        })
    }

    func arrival(of id: String) -> ContinuousClock.Instant? { seen.withLock { $0[id] } }
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
}

func describe(_ values: [Double]) -> String {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return "no samples" }
    let p90 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
    return String(format: "median %.2f ms, p90 %.2f ms, min %.2f ms (%d turns)", sorted[sorted.count / 2], p90, sorted[0], sorted.count)
}

/// The Claude adapter against the real `claude` CLI and the mock Messages API:
/// - the turn overhead it adds — the mock writes a turn's first delta → a session client
///   receives it as a chat message (through the CLI, the pipe, the plugin, the C boundary
///   and the session manager);
/// - time to the first delta of a turn in a session whose process is running, against
///   spawning a process per turn (a restored session resumes with `--resume`).
///
/// Needs the CLI (`bash .ci/install-claude`); prints a note and returns without it.
func runClaudeBenchmarks(quick: Bool, pluginDirectory: String) async throws {
    print("")
    print("6. Claude adapter with the real claude CLI \(ClaudeCLI.version) and the mock Messages API on loopback")
    let claude: String
    do {
        claude = try ClaudeCLI.requireBinary()
    } catch {
        print("   skipped: \(error)")
        return
    }
    let pluginPath = FilePaths.join(pluginDirectory, "libClaudeAdapter.so")
    let plugin: LoadedPlugin
    do {
        plugin = try PluginLoader.load(pluginPath)
    } catch {
        print("   skipped: \(error) (pass --plugin-dir)")
        return
    }
    let turns = quick ? 5 : 30
    let spawns = quick ? 3 : 10
    let scratch = try TemporaryDirectory(prefix: "switchboard-claude-bench")
    defer { scratch.remove() }

    try await MockAnthropicAPI.run { api in
        var env: [String: JSONValue] = [:]
        for (name, value) in ClaudeCLI.environment(home: scratch.path, api: api) { env[name] = .string(value) }
        let registry = AgentRegistry()
        try registry.register(plugin: plugin, settings: .object(["binary": .string(claude), "env": .object(env)]))
        let manager = SessionManager(registry: registry, store: NullStore())
        api.setDefaultReply(.text("The ", "quick ", "brown ", "fox."))

        // A session whose process stays up; the first turn starts it.
        let clock = FirstDeltaClock()
        let id = try await manager.start(SessionStartOptions(workspaceName: hostWorkspaceName, agentType: "claude",
                                                             model: "claude-bench-1", projectPath: scratch.path))
        _ = await manager.connect(id, client: clock.client)
        let warmTurns = try await measureWarmTurns(manager, session: id, clock: clock, turns: turns) { messageId in
            api.firstDeltas.items.first { $0.messageId == messageId }?.at
        }
        let overheads = warmTurns.overhead
        let warmFirstDelta = warmTurns.firstDelta
        let agentSessionId = await manager.info(id)?.agentSessionId
        await manager.dispose(id)

        // A process per turn: each turn restores the session, which starts claude with --resume.
        var coldFirstDelta: [Double] = []
        if let agentSessionId {
            for _ in 0..<spawns {
                let cold = FirstDeltaClock()
                let restored = try await manager.start(SessionStartOptions(
                    workspaceName: hostWorkspaceName, agentType: "claude", agentSessionId: agentSessionId,
                    model: "claude-bench-1", projectPath: scratch.path
                ))
                _ = await manager.connect(restored, client: cold.client)
                let sent = ContinuousClock.now
                try await manager.send(restored, text: "One more turn")
                let arrived = try await cold.arrivals.wait(within: .seconds(60)) { !$0.isEmpty }
                coldFirstDelta.append(milliseconds(cold.arrival(of: arrived[0])! - sent))
                try await cold.turnEnds.wait(within: .seconds(60)) { !$0.isEmpty }
                await manager.dispose(restored)
            }
        }

        // What parsing one stream-json delta line costs inside the plugin (its main work per delta).
        let line = #"{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"brown "}},"session_id":"05dcbd5f-d0a2-48b5-ac27-d392cd98f585","parent_tool_use_id":null,"uuid":"6a1763c1-0e6d-4243-ac8b-5a99f35f915c","api_message_id":"msg_mock_12"}"#
        var copy = line
        let parse = copy.withUTF8 { bytes in
            perCall(samples: quick ? 5 : 21, batch: 2000) { _ = try? JSONValue(parsing: bytes) }
        }

        let adapterOnly = try await adapterOnlyOverhead(plugin: plugin, directory: scratch.path, turns: turns)
        print("   turn overhead, mock's first delta written -> client has the chat message:")
        print("     \(describe(overheads))")
        print("     of which the CLI (SSE in -> stdout line out) is most; the adapter alone (stdout line written -> client):")
        print("     \(adapterOnly.map(describe) ?? "not measured (python3 not found)"); parsing one delta line: \(formatNs(parse))")
        print("   time to first delta after send:")
        print("     running process (second and later turns): \(describe(warmFirstDelta))")
        print("     process per turn (start with --resume):   \(describe(coldFirstDelta))")
        let warm = warmFirstDelta.sorted()
        let cold = coldFirstDelta.sorted()
        if !warm.isEmpty, !cold.isEmpty {
            print(String(format: "     keeping the process saves %.0f ms per turn (%.1fx faster to first delta)",
                         cold[cold.count / 2] - warm[warm.count / 2], cold[cold.count / 2] / max(warm[warm.count / 2], 0.001)))
        }
    }
}

/// Nanoseconds of CLOCK_MONOTONIC, the clock Python's `time.monotonic_ns()` reads.
private func monotonicNanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
}

/// The adapter's own share: a stand-in CLI (a few lines of Python) answers each turn with
/// a text delta whose text is the CLOCK_MONOTONIC time it was written; the client subtracts
/// it from the time it received the message. Covers the pipe, the line split and parse, the
/// C boundary, the session manager and the client queue.
private func adapterOnlyOverhead(plugin: LoadedPlugin, directory: String, turns: Int) async throws -> [Double]? {
    guard let python = ChildProcess.which("python3") else { return nil }
    let script = directory + "/fake-claude"
    try """
    #!\(python)
    import json, sys, time
    sid = "00000000-0000-4000-8000-000000000000"
    out = sys.stdout
    for n, line in enumerate(sys.stdin):
        if '"type":"user"' not in line:
            continue
        out.write(json.dumps({"type": "system", "subtype": "init", "session_id": sid}) + "\\n")
        out.flush()
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": str(time.monotonic_ns())}}
        out.write(json.dumps({"type": "stream_event", "event": delta, "session_id": sid, "api_message_id": "msg_%d" % n}) + "\\n")
        out.flush()
        out.write(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "", "session_id": sid}) + "\\n")
        out.flush()
    """.write(toFile: script, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
    let registry = AgentRegistry()
    try registry.register(plugin: plugin, settings: .object(["binary": .string(script)]))
    let manager = SessionManager(registry: registry, store: NullStore())
    let latencies = Recorder<Double>()
    let ends = FirstDeltaClock()
    let id = try await manager.start(SessionStartOptions(workspaceName: hostWorkspaceName, agentType: "claude", projectPath: directory))
    _ = await manager.connect(id, client: SessionClient(send: { frame in
        if frame.message.type == .assistant, let written = Int(frame.message.content) {
            latencies.append(Double(monotonicNanoseconds() - written) / 1e6)
        }
    }))
    _ = await manager.connect(id, client: ends.client)
    for turn in 0...turns {
        let before = ends.turnEnds.items.count
        try await manager.send(id, text: "Turn \(turn)")
        try await ends.turnEnds.wait(within: .seconds(30)) { $0.count > before }
    }
    await manager.dispose(id)
    return Array(latencies.items.dropFirst())
}
