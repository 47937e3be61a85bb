import Testing
import SwitchboardCore
import SwitchboardTesting

@Suite("Importing the original system's session registry")
struct PerryImportTests {
    /// A registry as the original system wrote it: three sessions, one never linked.
    static let registry = """
    {
      "version": 1,
      "sessions": {
        "session-1736000000000-abc1234": {
          "perrySessionId": "session-1736000000000-abc1234",
          "workspaceName": "alpha",
          "agentType": "claude",
          "agentSessionId": "2f8c1a9e-7d3b-4c55-9a61-0e4b8f2d7c10",
          "projectPath": "/home/workspace/alpha",
          "createdAt": "2025-01-04T14:13:20.000Z",
          "lastActivity": "2025-01-04T15:00:01.250Z"
        },
        "session-1736100000000-def5678": {
          "perrySessionId": "session-1736100000000-def5678",
          "workspaceName": "alpha",
          "agentType": "opencode",
          "agentSessionId": null,
          "projectPath": null,
          "createdAt": "2025-01-05T18:00:00.000Z",
          "lastActivity": "2025-01-05T18:00:00.000Z"
        },
        "imported-1736200000000-ghi9012": {
          "perrySessionId": "imported-1736200000000-ghi9012",
          "workspaceName": "beta",
          "agentType": "codex",
          "agentSessionId": "thread_abc",
          "createdAt": 1736200000000,
          "lastActivity": "2025-01-06T22:00:00+02:00"
        }
      }
    }
    """

    @Test("A registry imports every session with its fields; importing again adds nothing", arguments: StoreKind.allCases)
    func importsOnce(kind: StoreKind) async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-perry")
        defer { dir.remove() }
        let path = try dir.write("session-registry.json", Self.registry)
        try await kind.withStore { store in
            let report = try await PerryRegistryImport.importFile(path, into: store)
            #expect(report == PerryImportReport(imported: 3, alreadyPresent: 0, problems: []))

            #expect(try await store.get("session-1736000000000-abc1234") == SessionRecord(
                id: "session-1736000000000-abc1234", workspaceName: "alpha", agentType: "claude",
                agentSessionId: "2f8c1a9e-7d3b-4c55-9a61-0e4b8f2d7c10", projectPath: "/home/workspace/alpha",
                createdAt: 1_736_000_000_000, lastActivity: 1_736_002_801_250))
            #expect(try await store.get("session-1736100000000-def5678") == SessionRecord(
                id: "session-1736100000000-def5678", workspaceName: "alpha", agentType: "opencode",
                createdAt: 1_736_100_000_000, lastActivity: 1_736_100_000_000))
            #expect(try await store.get("imported-1736200000000-ghi9012") == SessionRecord(
                id: "imported-1736200000000-ghi9012", workspaceName: "beta", agentType: "codex",
                agentSessionId: "thread_abc", createdAt: 1_736_200_000_000, lastActivity: 1_736_193_600_000))
            #expect(try await store.list(workspace: "alpha").map(\.id) == ["session-1736100000000-def5678", "session-1736000000000-abc1234"])

            let again = try await PerryRegistryImport.importFile(path, into: store)
            #expect(again == PerryImportReport(imported: 0, alreadyPresent: 3, problems: []))
            #expect(try await store.list(workspace: nil).count == 3)
        }
    }

    @Test("A session already known by its agent session id counts as present", arguments: StoreKind.allCases)
    func knownByAgentSession(kind: StoreKind) async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-perry")
        defer { dir.remove() }
        let path = try dir.write("session-registry.json", Self.registry)
        try await kind.withStore { store in
            let mine = SessionRecord(id: "session-new", workspaceName: "beta", agentType: "codex",
                                     agentSessionId: "thread_abc", createdAt: 1, lastActivity: 2)
            try await store.create(mine)
            let report = try await PerryRegistryImport.importFile(path, into: store)
            #expect(report.imported == 2)
            #expect(report.alreadyPresent == 1)
            #expect(try await store.get("imported-1736200000000-ghi9012") == nil)
            #expect(try await store.get("session-new") == mine)
        }
    }

    @Test("An incomplete entry is skipped and named; the others import", arguments: StoreKind.allCases)
    func incompleteEntry(kind: StoreKind) async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-perry")
        defer { dir.remove() }
        let path = try dir.write("session-registry.json", """
        {"version": 1, "sessions": {
          "good-1": {"perrySessionId": "good-1", "workspaceName": "w", "agentType": "claude", "createdAt": "2025-01-02T03:04:05.678Z", "lastActivity": "2025-01-02T03:04:05.678Z"},
          "no-workspace": {"perrySessionId": "no-workspace", "agentType": "claude", "agentSessionId": "a", "createdAt": "2025-01-02T03:04:05.678Z", "lastActivity": "2025-01-02T03:04:05.678Z"},
          "bad-time": {"workspaceName": "w", "agentType": "claude", "createdAt": "yesterday", "lastActivity": 5},
          "good-2": {"workspaceName": "w", "agentType": "pi", "agentSessionId": "b", "createdAt": 1735787045678, "lastActivity": 1735787045679}
        }}
        """)
        try await kind.withStore { store in
            let report = try await PerryRegistryImport.importFile(path, into: store)
            #expect(report.imported == 2)
            #expect(report.alreadyPresent == 0)
            #expect(report.problems.map(\.key) == ["bad-time", "no-workspace"])
            #expect(report.problems.last?.message == "Session 'no-workspace' was skipped: workspaceName is missing.")
            #expect(report.problems.first?.message.contains("createdAt 'yesterday' is not an ISO-8601 date-time") == true)
            #expect(try await store.get("good-1")?.createdAt == 1_735_787_045_678)
            #expect(try await store.get("good-2")?.agentSessionId == "b")
            #expect(try await store.get("no-workspace") == nil)
            #expect(try await store.find(agentSessionId: "a") == nil)
        }
    }

    @Test("A file that is not a version 1 registry is an error naming the file", arguments: [
        ("{\"version\": 1, \"sessions\": {", "is not valid JSON"),
        ("{\"version\": 2, \"sessions\": {}}", "has version 2; only version 1 is understood"),
        ("{\"sessions\": {}}", "has no \"version\""),
        ("{\"version\": 1, \"sessions\": []}", "\"sessions\" must be an object, not an array"),
        ("[]", "the top level must be an object"),
    ])
    func invalidFile(text: String, reason: String) async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-perry")
        defer { dir.remove() }
        let path = try dir.write("session-registry.json", text)
        let store: any SessionStore = InMemorySessionStore()
        let error = await #expect(throws: SessionStoreError.self) {
            try await PerryRegistryImport.importFile(path, into: store)
        }
        #expect(error?.code == .invalidImport)
        #expect(error?.message.hasPrefix("Session registry '\(path)' cannot be imported: ") == true)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(try await store.list(workspace: nil).isEmpty)
    }

    @Test("A missing file is an error naming it")
    func missingFile() async throws {
        let error = await #expect(throws: SessionStoreError.self) {
            try await PerryRegistryImport.importFile("/nonexistent/session-registry.json", into: InMemorySessionStore())
        }
        #expect(error?.code == .invalidImport)
        #expect(error?.message == "Session registry '/nonexistent/session-registry.json' cannot be read: No such file or directory.")
    }
}
