import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// The event log, the message queue and `clientMessageId`, against a real daemon: what a
/// client saw survives restarts and kill -9, messages sent while the agent works wait their
/// turn, and a message sent twice runs once.
@Suite("Durable history, the message queue and deduplicated sends", .serialized, .childProcessGate)
struct DurableHistoryTests {
    /// Every turn: a short pause, then the user's text echoed back.
    static let echoing = LiveChatTests.scripted(#"[{"messages":[{"type":"system","content":"thinking","delayMs":150}],"echo":true}]"#)

    static func seqFrames(_ frames: [JSONValue]) -> [JSONValue] { frames.filter { $0["seq"]?.intValue != nil } }

    static func message(_ text: String, id: String? = nil, mode: String? = nil) -> [String: JSONValue] {
        var frame: [String: JSONValue] = ["type": .string("message"), "content": .string(text)]
        if let id { frame["clientMessageId"] = .string(id) }
        if let mode { frame["mode"] = .string(mode) }
        return frame
    }

    /// The whole log of a session over HTTP, paged with `limit`.
    static func history(_ daemon: LiveDaemon, _ id: String, limit: Int = 5000) async throws -> [JSONValue] {
        var all: [JSONValue] = []
        var after = -1
        while true {
            let page = try await daemon.http(.GET, "/v1/sessions/\(id)/messages?after=\(after)&limit=\(limit)")
            #expect(page.status == 200)
            let frames = page.body.arrayValue ?? []
            all += frames
            guard frames.count == limit, let last = frames.last?["seq"]?.intValue else { return all }
            after = last
        }
    }

    @Test("Restart mid-conversation: resuming from a seq before the restart gets exactly the missed frames, and new frames continue the numbering")
    func resumeAcrossRestart() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-history")
        defer { dir.remove() }
        var before: [JSONValue] = []
        var id = ""
        do {
            let daemon = try await LiveDaemon(agents: Self.echoing, in: dir)
            let socket = try await daemon.socket("w")
            socket.send(["type": .string("connect")])
            id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
            for text in ["one", "two", "three"] {
                let mark = socket.frames.items.count
                socket.send(Self.message(text))
                try await socket.waitForStatus("idle", after: mark)
            }
            before = Self.seqFrames(socket.frames.items)
            await socket.close()
            #expect(try await daemon.stop() == 0)
        }
        let seqs = before.compactMap { $0["seq"]?.intValue }
        #expect(seqs == Array(0..<seqs.count), "\(seqs)")
        let newest = try #require(seqs.last)
        let resumeFrom = newest / 2

        let again = try await LiveDaemon(agents: Self.echoing, in: dir)
        // Readable before anything restores the session.
        #expect(try await Self.history(again, id) == before)
        let socket = try await again.socket("w")
        socket.send(["type": .string("connect"), "sessionId": .string(id), "resumeFromId": .int(resumeFrom)])
        try await socket.waitFor(type: "session_joined")
        try await socket.waitFor { $0["seq"]?.intValue == newest }
        let replayed = Self.seqFrames(socket.frames.items).filter { ($0["seq"]?.intValue ?? 0) <= newest }
        #expect(replayed == Array(before.dropFirst(resumeFrom + 1)))
        let mark = socket.frames.items.count
        socket.send(Self.message("four"))
        try await socket.waitFor { $0["type"] == .string("assistant") && $0["content"] == .string("four") }
        try await socket.waitForStatus("idle", after: mark)
        let after = Self.seqFrames(socket.frames.items).compactMap { $0["seq"]?.intValue }
        #expect(after == Array((resumeFrom + 1)...(after.last ?? 0)), "numbering continues without a gap or a repeat: \(after)")
        #expect((after.last ?? 0) > newest)
        // A resumeFromId beyond the newest replays nothing.
        let late = try await again.socket("w")
        late.send(["type": .string("connect"), "sessionId": .string(id), "resumeFromId": .int(1_000_000)])
        try await late.waitFor(type: "session_joined")
        late.send(Self.message("five"))
        try await late.waitFor { $0["type"] == .string("assistant") && $0["content"] == .string("five") }
        #expect(Self.seqFrames(late.frames.items).allSatisfy { ($0["seq"]?.intValue ?? 0) > (after.last ?? 0) })
        await late.close()
        await socket.close()
        try await again.stop()
    }

    @Test("kill -9 during a streaming turn: every frame a client received is in the log, as received")
    func killNine() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-kill")
        defer { dir.remove() }
        let steps = (0..<400).map { #"{"type":"assistant","content":"chunk \#($0) ","messageId":"m1","delayMs":5}"# }.joined(separator: ",")
        let agents = LiveChatTests.scripted("[{\"messages\":[\(steps)]}]")
        let daemon = try await LiveDaemon(agents: agents, in: dir)
        let socket = try await daemon.socket("w")
        socket.send(Self.message("stream"))
        let id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
        try await socket.frames.wait(within: .seconds(30)) { $0.filter { $0["type"] == .string("assistant") }.count >= 60 }
        daemon.process.signal(SIGKILL)
        _ = try await daemon.process.waitForExit(within: .seconds(10))
        await socket.close()
        let received = Self.seqFrames(socket.frames.items)
        #expect(received.count >= 60)

        let again = try await LiveDaemon(agents: agents, in: dir)
        let logged = try await Self.history(again, id)
        let bySeq = Dictionary(logged.map { ($0["seq"]?.intValue ?? -1, $0) }, uniquingKeysWith: { first, _ in first })
        for frame in received {
            #expect(bySeq[frame["seq"]?.intValue ?? -1] == frame, "frame \(frame["seq"] ?? .null) is in the log as received")
        }
        try await again.stop()
    }

    @Test("Three quick messages: one runs, two wait in the queue, all three complete in order; a queued one can be cancelled")
    func queueOrder() async throws {
        let daemon = try await LiveDaemon(agents: Self.echoing)
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("connect")])
        let id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
        for (index, text) in ["first", "second", "third"].enumerated() { socket.send(Self.message(text, id: "c\(index)")) }
        let accepted = try await socket.frames.wait(within: .seconds(30)) { $0.filter { $0["type"] == .string("message_accepted") }.count == 3 }
            .filter { $0["type"] == .string("message_accepted") }
        #expect(accepted.map { $0["clientMessageId"] } == [.string("c0"), .string("c1"), .string("c2")])
        #expect(accepted[0]["seq"]?.intValue != nil && accepted[0]["queueId"] == .null)
        #expect(accepted[1]["position"] == .int(1) && accepted[2]["position"] == .int(2))
        let queued = socket.frames(ofType: "queued")
        #expect(queued.map { $0["content"] } == [.string("second"), .string("third")])
        #expect(queued.map(\.["queueId"]) == [accepted[1]["queueId"], accepted[2]["queueId"]])
        try await socket.frames.wait(within: .seconds(30)) { $0.filter { $0["type"] == .string("done") }.count == 3 }
        let users = socket.frames(ofType: "user")
        #expect(users.map { $0["content"] } == [.string("first"), .string("second"), .string("third")])
        #expect(users.dropFirst().map(\.["queueId"]) == [accepted[1]["queueId"], accepted[2]["queueId"]])
        let echoes = socket.frames(ofType: "assistant").map { $0["content"] }
        #expect(echoes == [.string("first"), .string("second"), .string("third")])
        // Each user frame comes after the previous turn's done.
        let order = socket.frames.items.compactMap { frame -> String? in
            switch frame["type"]?.stringValue {
            case "user"?: "u"
            case "done"?: "d"
            default: nil
            }
        }
        #expect(order == ["u", "d", "u", "d", "u", "d"])

        // Cancel: the cancelled message never runs; the queue endpoint agrees.
        let mark = socket.frames.items.count
        socket.send(Self.message("fourth"))
        socket.send(Self.message("never"))
        let never = try await socket.waitFor(type: "queued", after: mark)
        let queueId = try #require(never["queueId"]?.stringValue)
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)/queue").body.arrayValue?.map { $0["queueId"] } == [.string(queueId)])
        socket.send(["type": .string("cancel_queued"), "queueId": .string(queueId)])
        #expect(try await socket.waitFor(type: "queue_cancelled", after: mark)["queueId"] == .string(queueId))
        try await socket.waitFor { $0["type"] == .string("assistant") && $0["content"] == .string("fourth") }
        try await socket.waitForStatus("idle", after: mark)
        #expect(!socket.frames.items.contains { $0["type"] == .string("user") && $0["content"] == .string("never") })
        #expect(try await daemon.http(.GET, "/v1/sessions/\(id)/queue").body == .array([]))
        await socket.close()
        try await daemon.stop()
    }

    @Test("mode interrupt interrupts the running turn and sends at once; a full queue refuses with an error that says so")
    func interruptModeAndFullQueue() async throws {
        let daemon = try await LiveDaemon(agents: LiveChatTests.scripted(#"[{"hang": true}, {"echo": true}]"#), extraConfig: #", "queueLimit": 2"#)
        let socket = try await daemon.socket("w")
        socket.send(Self.message("work"))
        try await socket.waitForStatus("running")
        for text in ["q1", "q2"] { socket.send(Self.message(text)) }
        try await socket.frames.wait(within: .seconds(30)) { $0.filter { $0["type"] == .string("queued") }.count == 2 }
        let mark = socket.frames.items.count
        socket.send(Self.message("q3"))
        let full = try await socket.waitFor(type: "error", after: mark)
        #expect(full["code"] == .string("queue_full"))
        #expect(full["content"]?.stringValue?.contains("is full (2 messages)") == true, "\(full)")
        for queued in socket.frames(ofType: "queued") {
            socket.send(["type": .string("cancel_queued"), "queueId": queued["queueId"] ?? .null])
        }
        try await socket.frames.wait(within: .seconds(30)) { $0.filter { $0["type"] == .string("queue_cancelled") }.count == 2 }
        socket.send(Self.message("now", mode: "interrupt"))
        try await socket.waitForStatus("interrupted", after: mark)
        try await socket.waitFor { $0["type"] == .string("assistant") && $0["content"] == .string("now") }
        let bad = socket.frames.items.count
        socket.send(Self.message("x", mode: "shout"))
        #expect(try await socket.waitFor(type: "error", after: bad)["content"] == .string(#"'mode' must be "queue" or "interrupt", not 'shout'."#))
        await socket.close()
        try await daemon.stop()
    }

    @Test("The same clientMessageId from two connections at once, again later, and after a restart: one user frame, each sender acknowledged")
    func deduplicated() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-dedupe")
        defer { dir.remove() }
        let daemon = try await LiveDaemon(agents: Self.echoing, in: dir)
        let first = try await daemon.socket("w")
        first.send(["type": .string("connect")])
        let id = try #require(try await first.waitFor(type: "session_started")["sessionId"]?.stringValue)
        let second = try await daemon.socket("w")
        second.send(["type": .string("connect"), "sessionId": .string(id)])
        try await second.waitFor(type: "session_joined")
        first.send(Self.message("only once", id: "phone-1"))
        second.send(Self.message("only once", id: "phone-1"))
        let a = try await first.waitFor(type: "message_accepted")
        let b = try await second.waitFor(type: "message_accepted")
        #expect([a["duplicate"], b["duplicate"]].sorted { $0?.jsonText ?? "" < $1?.jsonText ?? "" } == [.bool(false), .bool(true)])
        #expect(a["seq"] == b["seq"] && a["seq"]?.intValue != nil)
        try await first.waitForStatus("idle")
        let over = try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"only once","clientMessageId":"phone-1"}"#)
        #expect(over.status == 202 && over.body["duplicate"] == .bool(true) && over.body["seq"] == a["seq"])
        await first.close()
        await second.close()
        #expect(try await daemon.stop() == 0)

        let again = try await LiveDaemon(agents: Self.echoing, in: dir)
        let retry = try await again.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"only once","clientMessageId":"phone-1"}"#)
        #expect(retry.status == 202 && retry.body["duplicate"] == .bool(true) && retry.body["seq"] == a["seq"])
        let users = try await Self.history(again, id).filter { $0["type"] == .string("user") }
        #expect(users.count == 1 && users.first?["clientMessageId"] == .string("phone-1"))
        let bad = try await again.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"x","clientMessageId":""}"#)
        #expect(bad.status == 400 && bad.body["error"]?["message"]?.stringValue?.contains("clientMessageId") == true)
        try await again.stop()
    }

    @Test("Queued messages survive a restart: the daemon restores the session and sends them")
    func queueSurvivesRestart() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-queue")
        defer { dir.remove() }
        let agents = LiveChatTests.scripted(#"[{"messages":[{"type":"system","content":"slow","delayMs":1500}],"echo":true}]"#)
        var id = ""
        do {
            let daemon = try await LiveDaemon(agents: agents, in: dir)
            let socket = try await daemon.socket("w")
            socket.send(Self.message("first"))
            id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
            try await socket.waitForStatus("running")
            socket.send(Self.message("after the restart", id: "later"))
            try await socket.waitFor(type: "queued")
            await socket.close()
            #expect(try await daemon.stop() == 0)
        }
        let again = try await LiveDaemon(agents: agents, in: dir)
        let socket = try await again.socket("w")
        socket.send(["type": .string("connect"), "sessionId": .string(id), "resumeFromId": .int(-1)])
        try await socket.waitFor(within: .seconds(30)) { $0["type"] == .string("assistant") && $0["content"] == .string("after the restart") }
        let user = try #require(socket.frames(ofType: "user").last)
        #expect(user["content"] == .string("after the restart") && user["clientMessageId"] == .string("later"))
        #expect(try await again.http(.GET, "/v1/sessions/\(id)/queue").body == .array([]))
        await socket.close()
        try await again.stop()
    }

    @Test("History over HTTP pages in seq order; after, since and limit are range-checked; an unknown session is 404")
    func paging() async throws {
        let daemon = try await LiveDaemon(agents: Self.echoing)
        let socket = try await daemon.socket("w")
        socket.send(["type": .string("connect")])
        let id = try #require(try await socket.waitFor(type: "session_started")["sessionId"]?.stringValue)
        for text in ["a", "b"] {
            let mark = socket.frames.items.count
            socket.send(Self.message(text))
            try await socket.waitForStatus("idle", after: mark)
        }
        let all = try await Self.history(daemon, id)
        #expect(all == Self.seqFrames(socket.frames.items))
        #expect(try await Self.history(daemon, id, limit: 3) == all)
        let since = try await daemon.http(.GET, "/v1/sessions/\(id)/messages?since=2&limit=2").body.arrayValue ?? []
        #expect(since.compactMap { $0["seq"]?.intValue } == [3, 4])
        for (query, message) in [
            ("limit=0", "'limit' must be a whole number from 1 to 5000, not '0'."),
            ("limit=5001", "'limit' must be a whole number from 1 to 5000, not '5001'."),
            ("limit=1e3", "'limit' must be a whole number from 1 to 5000, not '1e3'."),
            ("after=-2", "'after' must be a sequence number, not '-2'."),
            ("after=99999999999999999999", "'after' must be a sequence number, not '99999999999999999999'."),
        ] {
            let answer = try await daemon.http(.GET, "/v1/sessions/\(id)/messages?\(query)")
            #expect(answer.status == 400 && answer.body["error"]?["message"] == .string(message), "\(query)")
        }
        #expect(try await daemon.http(.GET, "/v1/sessions/nope/messages").status == 404)
        #expect(try await daemon.http(.GET, "/v1/sessions/nope/queue").status == 404)
        await socket.close()
        try await daemon.stop()
    }
}
