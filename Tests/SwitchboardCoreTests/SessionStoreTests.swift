import Testing
import SwitchboardCore
import SwitchboardTesting

/// The protocol's rules, checked on every store.
@Suite("Session store protocol")
struct SessionStoreTests {
    func record(
        _ id: String, workspace: String = "ws", agentType: String = "claude", agentSessionId: String? = nil,
        projectPath: String? = nil, model: String? = nil, created: Int64 = 1_000, activity: Int64? = nil
    ) -> SessionRecord {
        SessionRecord(
            id: id, workspaceName: workspace, agentType: agentType, agentSessionId: agentSessionId,
            projectPath: projectPath, model: model, createdAt: created, lastActivity: activity ?? created
        )
    }

    @Test("create stores every field; get returns it, or nil for an unknown id", arguments: StoreKind.allCases)
    func createAndGet(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let full = record("s1", workspace: "@host", agentType: "codex", agentSessionId: "a1",
                              projectPath: "/work/p", model: "o3", created: 1_736_000_000_123, activity: 1_736_000_000_456)
            let bare = record("s2")
            try await store.create(full)
            try await store.create(bare)
            #expect(try await store.get("s1") == full)
            #expect(try await store.get("s2") == bare)
            #expect(try await store.get("nope") == nil)
        }
    }

    @Test("create with an existing id fails with duplicateID and keeps the original", arguments: StoreKind.allCases)
    func duplicateCreate(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let original = record("s1", workspace: "a")
            try await store.create(original)
            let error = await #expect(throws: SessionStoreError.self) {
                try await store.create(record("s1", workspace: "b"))
            }
            #expect(error?.code == .duplicateID)
            #expect(error?.message.contains("'s1'") == true)
            #expect(try await store.get("s1") == original)
        }
    }

    @Test("linkAgentSession sets the agent session id and the last activity", arguments: StoreKind.allCases)
    func link(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(record("s1", created: 100))
            try await store.linkAgentSession("s1", agentSessionId: "agent-1", at: 250)
            let linked = try await store.get("s1")
            #expect(linked?.agentSessionId == "agent-1")
            #expect(linked?.lastActivity == 250)
            #expect(linked?.createdAt == 100)

            let error = await #expect(throws: SessionStoreError.self) {
                try await store.linkAgentSession("nope", agentSessionId: "agent-2", at: 300)
            }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("'nope'") == true)
            #expect(try await store.find(agentSessionId: "agent-2") == nil)
        }
    }

    @Test("touch updates the last activity, and the model only when given", arguments: StoreKind.allCases)
    func touch(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(record("s1", model: "m1", created: 100))
            try await store.touch("s1", at: 200, model: nil)
            #expect(try await store.get("s1")?.lastActivity == 200)
            #expect(try await store.get("s1")?.model == "m1")
            try await store.touch("s1", at: 300, model: "m2")
            #expect(try await store.get("s1") == record("s1", model: "m2", created: 100, activity: 300))

            let error = await #expect(throws: SessionStoreError.self) {
                try await store.touch("nope", at: 400, model: nil)
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test("find returns the record with an agent session id, the most recently active one when several share it", arguments: StoreKind.allCases)
    func find(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(record("s1", agentType: "claude", agentSessionId: "shared", activity: 500))
            try await store.create(record("s2", agentType: "codex", agentSessionId: "shared", activity: 900))
            try await store.create(record("s3", agentSessionId: "own"))
            try await store.create(record("s4"))
            #expect(try await store.find(agentSessionId: "own")?.id == "s3")
            #expect(try await store.find(agentSessionId: "shared")?.id == "s2")
            try await store.touch("s1", at: 1_000, model: nil)
            #expect(try await store.find(agentSessionId: "shared")?.id == "s1")
            #expect(try await store.find(agentSessionId: "unknown") == nil)
        }
    }

    @Test("list filters by workspace and returns the newest activity first", arguments: StoreKind.allCases)
    func list(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(record("a-old", workspace: "a", activity: 100))
            try await store.create(record("b-mid", workspace: "b", activity: 200))
            try await store.create(record("a-new", workspace: "a", activity: 300))
            try await store.create(record("a-mid", workspace: "a", activity: 150))
            #expect(try await store.list(workspace: "a").map(\.id) == ["a-new", "a-mid", "a-old"])
            #expect(try await store.list(workspace: "b").map(\.id) == ["b-mid"])
            #expect(try await store.list(workspace: "none").isEmpty)
            #expect(try await store.list(workspace: nil).map(\.id) == ["a-new", "b-mid", "a-mid", "a-old"])
            // Activity moves a record to the front.
            try await store.linkAgentSession("a-old", agentSessionId: "x", at: 400)
            #expect(try await store.list(workspace: "a").map(\.id) == ["a-old", "a-new", "a-mid"])
            #expect(try await store.list(workspace: "a").first == record("a-old", workspace: "a", agentSessionId: "x", activity: 400))
        }
    }

    @Test("importSession adds a new record and returns the existing one for the same agent session or id", arguments: StoreKind.allCases)
    func importIsIdempotent(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let first = record("imported-1", agentType: "claude", agentSessionId: "agent-x", projectPath: "/p", activity: 500)
            let stored = try await store.importSession(first)
            #expect(stored == first)
            #expect(try await store.get("imported-1") == first)

            // Same agent type and agent session id under another id: the stored one, unchanged.
            let again = try await store.importSession(record("imported-2", agentType: "claude", agentSessionId: "agent-x", activity: 900))
            #expect(again == first)
            #expect(try await store.get("imported-2") == nil)

            // Same id: the stored one, unchanged.
            let sameID = try await store.importSession(record("imported-1", workspace: "other", agentType: "codex"))
            #expect(sameID == first)

            // The same agent session id under another agent type is another session.
            let codex = record("imported-3", agentType: "codex", agentSessionId: "agent-x", activity: 100)
            let storedCodex = try await store.importSession(codex)
            #expect(storedCodex == codex)

            // Without an agent session id, only the id identifies it.
            let unlinked = record("imported-4")
            let firstTime = try await store.importSession(unlinked)
            let secondTime = try await store.importSession(unlinked)
            #expect(firstTime == unlinked)
            #expect(secondTime == unlinked)

            let ids = try await store.list(workspace: nil).map(\.id).sorted()
            #expect(ids == ["imported-1", "imported-3", "imported-4"])
        }
    }

    @Test("delete removes a record; deleting an unknown id does nothing", arguments: StoreKind.allCases)
    func delete(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.create(record("s1", agentSessionId: "a1"))
            try await store.create(record("s2"))
            try await store.delete("s1")
            #expect(try await store.get("s1") == nil)
            #expect(try await store.find(agentSessionId: "a1") == nil)
            #expect(try await store.list(workspace: "ws").map(\.id) == ["s2"])
            try await store.delete("s1")
            try await store.delete("never")
            #expect(try await store.get("s2") != nil)
            // The id can be used again.
            try await store.create(record("s1"))
            #expect(try await store.get("s1") == record("s1"))
        }
    }
}
