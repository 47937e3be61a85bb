import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The protocol's rules for the message queue, the client message ids and the audit log,
/// checked on every store.
@Suite("Session store protocol: queue, client messages, decisions")
struct SessionStoreQueueTests {
    static func decision(
        _ id: String, session: String = "s1", state: DecisionRecord.State = .pending, at time: Int64, options: [String] = ["allow", "deny"]
    ) -> DecisionRecord {
        DecisionRecord(
            id: id, sessionId: session, agentType: "claude", kind: .permission, toolName: "Bash", toolId: "t-\(id)",
            summary: "run ls", input: #"{"command":"ls"}"#, options: options, state: state, requestedAt: time
        )
    }

    @Test("The queue keeps each session's messages in order; remove takes one out; a queue id is queued once", arguments: StoreKind.allCases)
    func queue(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let a1 = QueuedMessage(queueId: "q-1", sessionId: "a", content: "first", clientMessageId: "c1", queuedAt: 10)
            let b1 = QueuedMessage(queueId: "q-2", sessionId: "b", content: "other", queuedAt: 11)
            let a2 = QueuedMessage(queueId: "q-3", sessionId: "a", content: "second\nline ' \" ; --", queuedAt: 12)
            for message in [a1, b1, a2] { try await store.enqueueMessage(message) }
            #expect(try await store.queuedMessages("a") == [a1, a2])
            #expect(try await store.queuedMessages("b") == [b1])
            // All of them: each session's in its order (how sessions interleave is the store's).
            let all = try await store.queuedMessages(nil)
            #expect(all.count == 3)
            #expect(all.filter { $0.sessionId == "a" } == [a1, a2])
            #expect(all.filter { $0.sessionId == "b" } == [b1])
            #expect(try await store.removeQueuedMessage("a", queueId: "q-1"))
            #expect(try await !store.removeQueuedMessage("a", queueId: "q-1"))
            #expect(try await !store.removeQueuedMessage("b", queueId: "q-3"))
            #expect(try await store.queuedMessages("a") == [a2])
            try await store.delete("a")
            #expect(try await store.queuedMessages(nil) == [b1])
        }
    }

    @Test("A client message record is kept per session and updated, never losing its seq or queue id", arguments: StoreKind.allCases)
    func clientMessages(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.recordClientMessage(ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", queueId: "q-1"))
            #expect(try await store.clientMessage("s1", "c1") == ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", queueId: "q-1"))
            #expect(try await store.clientMessage("s2", "c1") == nil)
            try await store.recordClientMessage(ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", seq: 7))
            #expect(try await store.clientMessage("s1", "c1") == ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", seq: 7, queueId: "q-1"))
            try await store.recordClientMessage(ClientMessageRecord(sessionId: "s2", clientMessageId: "c1", seq: 3))
            try await store.delete("s1")
            #expect(try await store.clientMessage("s1", "c1") == nil)
            #expect(try await store.clientMessage("s2", "c1")?.seq == 3)
        }
    }

    @Test("The audit log records a request once, closes only pending ones, and lists newest first by session and state", arguments: StoreKind.allCases)
    func decisions(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let first = Self.decision("d1", at: 100)
            try await store.recordDecision(first)
            try await store.recordDecision(Self.decision("d2", session: "s2", at: 200))
            try await store.recordDecision(Self.decision("d3", at: 300, options: []))
            let error = await #expect(throws: SessionStoreError.self) { try await store.recordDecision(Self.decision("d1", at: 999)) }
            #expect(error?.code == .duplicateID)
            #expect(try await store.decision("d1") == first)
            #expect(try await store.decision("nope") == nil)

            var closed = first
            closed.state = .resolved
            closed.decision = "deny"
            closed.decidedBy = "client"
            closed.decider = "conn-1"
            closed.message = "not now"
            closed.answers = ["q": "a"]
            closed.resolvedAt = 150
            #expect(try await store.closeDecision(closed))
            #expect(try await store.decision("d1") == closed)
            var again = closed
            again.decision = "allow"
            #expect(try await !store.closeDecision(again))
            #expect(try await !store.closeDecision(Self.decision("unknown", at: 1)))
            #expect(try await store.decision("d1")?.decision == "deny")

            #expect(try await store.decisions(DecisionQuery()).map(\.id) == ["d3", "d2", "d1"])
            #expect(try await store.decisions(DecisionQuery(limit: 2)).map(\.id) == ["d3", "d2"])
            #expect(try await store.decisions(DecisionQuery(sessionId: "s1")).map(\.id) == ["d3", "d1"])
            #expect(try await store.decisions(DecisionQuery(state: .pending)).map(\.id) == ["d3", "d2"])
            #expect(try await store.decisions(DecisionQuery(sessionId: "s1", state: .resolved)).map(\.id) == ["d1"])
            #expect(try await store.decisions(DecisionQuery(limit: 0)).isEmpty)

            #expect(try await store.expirePendingDecisions(at: 400) == 2)
            let expired = try await store.decision("d3")
            #expect(expired?.state == .expired)
            #expect(expired?.decision == DecisionResolution.cancelled)
            #expect(expired?.resolvedAt == 400)
            #expect(expired?.options == [])
            #expect(try await store.expirePendingDecisions(at: 500) == 0)
            // The audit log outlives the session.
            try await store.delete("s1")
            #expect(try await store.decision("d1") == closed)
        }
    }

    @Test("Frames of one append are kept once each; a seq logged already keeps its first frame", arguments: StoreKind.allCases)
    func appendOnce(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let frames = (0..<5).map { LoggedFrame(sessionId: "s", seq: $0, kind: .notice, json: #"{"n":\#($0)}"#, createdAt: 1) }
            try await store.appendFrames(frames)
            try await store.appendFrames([LoggedFrame(sessionId: "s", seq: 2, kind: .message, json: #"{"changed":true}"#, createdAt: 2)] + frames)
            let read = try await store.frames("s", after: -1, limit: 100)
            #expect(read == frames)
            try await store.appendFrames([])
            #expect(try await store.frameBounds("s") == 0...4)
        }
    }
}
