import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// `switchboard serve` end to end: the real binary, a real WebSocket client, the scripted
/// plugin through dlopen standing in for claude.
@Suite("Live chat over WebSocket", .serialized, .childProcessGate)
struct LiveChatTests {
    /// The config's agents: `claude` served by the scripted plugin with these turns.
    static func scripted(_ turns: String, loop: Bool = true) -> String {
        #"{"claude": {"plugin": "libScriptedAdapter.so", "settings": {"loop": \#(loop), "turns": \#(turns)}}}"#
    }

    static let reply = #"[{"agentSessionId": "agent-xyz", "messages": [{"type":"assistant","content":"Hel","messageId":"m1"},{"type":"assistant","content":"lo","messageId":"m1"}]}]"#

    static func seqs(_ frames: [JSONValue]) -> [Int] { frames.compactMap { $0["seq"]?.intValue } }

    @Test("Connect starts a session; a message streams the reply with sequence numbers")
    func startAndChat() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(Self.reply))
        let socket = try await daemon.socket("alpha")
        let hello = try await socket.waitFor(type: "connected")
        #expect(hello["workspaceName"] == .string("alpha"))
        #expect(hello["agentType"] == .string("claude"))
        socket.send(["type": .string("connect")])
        let started = try await socket.waitFor(type: "session_started")
        #expect(started["sessionId"]?.stringValue?.hasPrefix("session-") == true)
        socket.send(["type": .string("message"), "content": .string("hi")])
        try await socket.waitForStatus("idle")
        let chat = socket.frames.items.filter { $0["seq"] != nil }
        #expect(chat.compactMap { $0["type"]?.stringValue } == ["user", "system", "system", "assistant", "assistant", "done", "system"])
        #expect(chat.first { $0["type"] == .string("system") && $0["content"]?.stringValue?.contains("agentSessionId") == true }?["content"] == .string(#"{"agentSessionId":"agent-xyz"}"#))
        #expect(Self.seqs(chat) == Array(Self.seqs(chat).first!...Self.seqs(chat).last!))
        #expect(chat.filter { $0["type"] == .string("assistant") }.map { $0["messageId"] } == [.string("m1"), .string("m1")])
        await socket.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("Two clients on one session receive every frame in the same order")
    func twoClients() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(Self.reply))
        let a = try await daemon.socket("w")
        a.send(["type": .string("connect")])
        let id = try #require(try await a.waitFor(type: "session_started")["sessionId"]?.stringValue)
        let b = try await daemon.socket("w")
        b.send(["type": .string("connect"), "sessionId": .string(id)])
        let joined = try await b.waitFor(type: "session_joined")
        #expect(joined["sessionId"] == .string(id) && joined["status"] == .string("idle"))
        try await b.waitFor { $0["content"]?.stringValue?.hasPrefix("Connected to session") == true }
        for round in 0..<3 {
            a.send(["type": .string("message"), "content": .string("round \(round)")])
            try await a.frames.wait { $0.filter { $0["type"] == .string("done") }.count > round }
            try await b.frames.wait { $0.filter { $0["type"] == .string("done") }.count > round }
        }
        try await b.waitForStatus("idle", after: b.frames.items.count - 1)
        try await a.frames.wait { frames in Self.seqs(frames).count == Self.seqs(b.frames.items).count }
        let fromA = a.frames.items.filter { $0["seq"] != nil }
        let fromB = b.frames.items.filter { $0["seq"] != nil }
        #expect(fromA == fromB)
        #expect(fromA.filter { $0["type"] == .string("user") }.count == 3)
        await a.close(); await b.close()
        try await daemon.stop()
    }

    @Test("A client reconnecting with the last seq it saw gets exactly the missed frames")
    func resume() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(Self.reply))
        let first = try await daemon.socket("w")
        first.send(["type": .string("connect")])
        let id = try #require(try await first.waitFor(type: "session_started")["sessionId"]?.stringValue)
        first.send(["type": .string("message"), "content": .string("one")])
        try await first.waitForStatus("idle")
        let lastSeen = try #require(Self.seqs(first.frames.items).last)
        await first.close()

        let other = try await daemon.socket("w")
        other.send(["type": .string("message"), "content": .string("two"), "sessionId": .string(id)])
        try await other.waitFor(type: "session_joined")
        try await other.frames.wait { $0.contains { $0["type"] == .string("done") } }
        try await other.waitForStatus("idle", after: other.frames.items.firstIndex { $0["type"] == .string("done") } ?? 0)

        let back = try await daemon.socket("w")
        back.send(["type": .string("connect"), "sessionId": .string(id), "resumeFromId": .int(lastSeen)])
        try await back.waitFor { $0["content"]?.stringValue?.hasPrefix("Connected to session") == true }
        let missed = back.frames.items.filter { $0["seq"] != nil }
        let expected = other.frames.items.filter { ($0["seq"]?.intValue ?? -1) > lastSeen }
        #expect(missed == expected)
        #expect(Self.seqs(missed).first == lastSeen + 1)
        #expect(missed.contains { $0["type"] == .string("user") && $0["content"] == .string("two") })
        await other.close(); await back.close()
        try await daemon.stop()
    }

    @Test("After a restart a stored session is joined by its agent session id and continues")
    func restartAndJoin() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-restart")
        defer { dir.remove() }
        var id: String?
        do {
            let daemon = try await LiveDaemon(agents: Self.scripted(Self.reply), in: dir)
            let socket = try await daemon.socket("w")
            socket.send(["type": .string("message"), "content": .string("remember me")])
            id = try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue
            try await socket.waitFor { $0["content"] == .string(#"{"agentSessionId":"agent-xyz"}"#) }
            try await socket.waitForStatus("idle")
            await socket.close()
            #expect(try await daemon.stop() == 0)
        }
        let again = try await LiveDaemon(agents: Self.scripted(Self.reply), in: dir)
        let socket = try await again.socket("w")
        socket.send(["type": .string("connect"), "sessionId": .string("agent-xyz")])
        let joined = try await socket.waitFor(type: "session_joined")
        #expect(joined["sessionId"] == id.map(JSONValue.string))
        #expect(joined["agentSessionId"] == .string("agent-xyz"))
        socket.send(["type": .string("message"), "content": .string("still there?")])
        try await socket.waitFor(type: "done")
        await socket.close()
        try await again.stop()
    }

    @Test("Interrupt mid-turn; a second message while running is queued and can be cancelled; set_model")
    func interruptBusyAndModel() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(#"[{"hang": true}, {}]"#))
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("set_model"), "model": .string("opus")])
        #expect(try await socket.waitFor(type: "error")["content"] == .string("No session: send a connect frame first."))
        socket.send(["type": .string("message"), "content": .string("work hard"), "model": .string("sonnet")])
        try await socket.waitForStatus("running")
        let mark = socket.frames.items.count
        socket.send(["type": .string("message"), "content": .string("again")])
        let queued = try await socket.waitFor(type: "queued", after: mark)
        #expect(queued["content"] == .string("again") && queued["position"] == .int(1) && queued["seq"]?.intValue != nil)
        let queueId = try #require(queued["queueId"]?.stringValue)
        socket.send(["type": .string("cancel_queued"), "queueId": .string(queueId)])
        #expect(try await socket.waitFor(type: "queue_cancelled", after: mark)["queueId"] == .string(queueId))
        socket.send(["type": .string("cancel_queued"), "queueId": .string(queueId)])
        let again = try await socket.waitFor(type: "error", after: mark)
        #expect(again["content"]?.stringValue?.contains("has no queued message \(queueId)") == true)
        socket.send(["type": .string("interrupt")])
        try await socket.waitForStatus("interrupted")
        socket.send(["type": .string("set_model"), "model": .string("opus")])
        try await socket.waitFor { $0["type"] == .string("system") && $0["content"] == .string("Model set to: opus") }
        socket.send(["type": .string("set_model")])
        #expect(try await socket.waitFor(type: "error", after: socket.frames.items.count - 1)["content"] == .string("set_model needs a 'model'."))
        socket.send(["type": .string("message"), "content": .string("next")])
        let done = try await socket.waitFor(type: "done")
        #expect(done["model"] == .string("opus"))
        await socket.close()
        try await daemon.stop()
    }

    @Test("Bad frames get an error frame and the connection stays open")
    func badFrames() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(Self.reply))
        let socket = try await daemon.socket("w")
        try await socket.waitFor(type: "connected")
        let cases: [(String, String)] = [
            ("hello", "Frames must be JSON objects: invalid JSON at byte 0: expected a value"),
            ("[1,2]", "Frames must be JSON objects, not an array."),
            (#"{"content":"x"}"#, "The frame has no 'type'."),
            (#"{"type":"teleport"}"#, "Unknown frame type 'teleport' (known: connect, message, cancel_queued, interrupt, set_model, disconnect, permission_response, question_response)."),
            (#"{"type":"message"}"#, "A message frame needs a non-empty 'content'."),
            (#"{"type":"message","content":42}"#, "'content' must be a string, not a number."),
            (#"{"type":"connect","resumeFromId":"x"}"#, "'resumeFromId' must be a whole number, not \"x\"."),
            (#"{"type":"interrupt"}"#, "No session to interrupt: send a connect frame first."),
            ("{\"type\":\"message\",\"content\":\"" + String(repeating: "x", count: 1_100_000) + "\"}", "The frame is larger than 1048576 bytes; it was ignored."),
        ]
        for (frame, message) in cases {
            let mark = socket.frames.items.count
            socket.send(frame)
            let error = try await socket.waitFor(type: "error", after: mark)
            #expect(error["content"] == .string(message), "for \(frame.prefix(60))")
            #expect(error["timestamp"]?.stringValue?.hasSuffix("Z") == true)
        }
        socket.send(["type": .string("message"), "content": .string("still fine")])
        try await socket.waitFor(type: "done")
        // A bad connect frame leaves the current session attached.
        let mark = socket.frames.items.count
        socket.send(#"{"type":"connect","resumeFromId":-5}"#)
        #expect(try await socket.waitFor(type: "error", after: mark)["content"] == .string("'resumeFromId' must be a sequence number (-1 or more), not -5."))
        socket.send(["type": .string("message"), "content": .string("attached?")])
        try await socket.frames.wait(within: .seconds(60)) { $0.filter { $0["type"] == .string("done") }.count == 2 }
        await socket.close()
        try await daemon.stop()
    }

    @Test("A stalled client does not delay another client and is eventually disconnected")
    func stalledClient() async throws {
        let big = String(repeating: "x", count: 64 * 1024)
        // Paced (5 ms apart) so the healthy client keeps up even on a loaded machine; the
        // stalled one, which never reads, still falls far behind. Three turns of 200 frames
        // (the config file must stay under the 16 MiB read limit).
        let messages = (0..<200).map { _ in #"{"type":"tool_result","content":"\#(big)","toolId":"t","delayMs":5}"# }.joined(separator: ",")
        let daemon = try await LiveDaemon(agents: Self.scripted("[{\"messages\": [\(messages)]}]"), extraConfig: #", "clientQueueLimit": 200"#)
        let healthy = try await daemon.socket("w")
        healthy.send(["type": .string("connect")])
        let id = try #require(try await healthy.waitFor(type: "session_started")["sessionId"]?.stringValue)
        let stalled = try await daemon.socket("w", reading: false)
        stalled.send(["type": .string("connect"), "sessionId": .string(id)])
        // Both are attached before the turn starts.
        let deadline = ContinuousClock.now + .seconds(30)
        while try await daemon.http(.GET, "/v1/sessions/\(id)").body["clients"] != .int(2) {
            guard ContinuousClock.now < deadline else { throw DaemonError("the stalled client never attached") }
            try await Task.sleep(for: .milliseconds(20))
        }
        for round in 0..<3 {
            healthy.send(["type": .string("message"), "content": .string("flood")])
            try await healthy.frames.wait(within: .seconds(60)) { $0.filter { $0["type"] == .string("done") }.count > round }
        }
        #expect(healthy.frames(ofType: "tool_result").count == 600)
        // The stalled one is cut off: the session keeps only the healthy client.
        while try await daemon.http(.GET, "/v1/sessions/\(id)").body["clients"] != .int(1) {
            guard ContinuousClock.now < deadline + .seconds(30) else { throw DaemonError("the stalled client was never disconnected") }
            try await Task.sleep(for: .milliseconds(50))
        }
        await stalled.close(); await healthy.close()
        try await daemon.stop()
    }

    @Test("Frames of every header size (7-, 16- and 64-bit lengths) arrive whole and in order")
    func frameSizes() async throws {
        // A frame's text is the content plus some 80 bytes, so these cross 125/126 and
        // 65,535/65,536 bytes of payload, where the WebSocket header grows.
        let sizes = Array(0...100) + Array(stride(from: 65_400, through: 65_520, by: 4)) + [300_000]
        let messages = sizes.map { #"{"type":"assistant","content":"\#(String(repeating: "x", count: $0))"}"# }.joined(separator: ",")
        let daemon = try await LiveDaemon(agents: Self.scripted("[{\"messages\": [\(messages)]}]"))
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("connect")])
        _ = try await socket.waitFor(type: "session_started")
        socket.send(["type": .string("message"), "content": .string("sizes")])
        try await socket.frames.wait(within: .seconds(60)) { $0.contains { $0["type"] == .string("done") } }
        let received = socket.frames(ofType: "assistant").map { $0["content"]?.stringValue?.utf8.count ?? -1 }
        #expect(received == sizes)
        #expect(socket.frames(ofType: "assistant").allSatisfy { $0["content"]?.stringValue?.allSatisfy { $0 == "x" } == true })
        await socket.close()
        try await daemon.stop()
    }

    @Test("SIGTERM closes every socket with a close frame and disposes the sessions before exit")
    func gracefulShutdown() async throws {
        let daemon = try await LiveDaemon(agents: Self.scripted(#"[{"hang": true}]"#))
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("message"), "content": .string("hang on")])
        try await socket.waitForStatus("running")
        #expect(try await daemon.stop() == 0)
        let close = try await socket.closeFrame.wait(within: .seconds(30)) { !$0.isEmpty }
        #expect(close.first?.hasPrefix("normalClosure") == true, "close: \(close)")
        #expect(daemon.process.stderr.contains("all sessions disposed"))
        #expect(childProcesses(of: daemon.process.pid).isEmpty)
        await socket.close()
    }
}
