import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardSQLite
import SwitchboardTesting

@Suite("SQLite session store")
struct SQLiteSessionStoreTests {
    func record(_ id: String, workspace: String = "ws", activity: Int64 = 1_000) -> SessionRecord {
        SessionRecord(id: id, workspaceName: workspace, agentType: "claude", projectPath: "/p/\(id)",
                      createdAt: 1_000, lastActivity: activity)
    }

    /// Creates a store with `count` records at `path` and closes it again.
    func makeStore(at path: String, count: Int) async throws {
        let store = try SQLiteSessionStore(path: path)
        for i in 0..<count {
            try await store.create(record("s\(i)", activity: Int64(1_000 + i)))
        }
    }

    func bytes(_ path: String) throws -> [UInt8] {
        try FileError.readContents(of: path)
    }

    /// Opening `path` must fail with `unreadable`, name the file, and leave it as it was.
    func expectUnreadable(_ path: String, mentioning reason: String) throws {
        let before = try bytes(path)
        let error = #expect(throws: SessionStoreError.self) { try SQLiteSessionStore(path: path) }
        #expect(error?.code == .unreadable)
        #expect(error?.message.hasPrefix("Session store '\(path)' cannot be opened: ") == true)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(try bytes(path) == before, "the file was changed")
        #expect(FilePaths.exists(path))
    }

    @Test("Every committed record is there after reopening the file")
    func persistence() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        var expected: [SessionRecord] = []
        do {
            let store = try SQLiteSessionStore(path: path)
            for i in 0..<50 {
                let r = SessionRecord(id: "s\(i)", workspaceName: "w\(i % 3)", agentType: i % 2 == 0 ? "claude" : "codex",
                                      projectPath: i % 4 == 0 ? nil : "/p/\(i)", createdAt: Int64(i), lastActivity: Int64(i))
                try await store.create(r)
                expected.append(r)
            }
            try await store.linkAgentSession("s7", agentSessionId: "agent-7", at: 500)
            expected[7].agentSessionId = "agent-7"
            expected[7].lastActivity = 500
            try await store.touch("s8", at: 600, model: "opus")
            expected[8].model = "opus"
            expected[8].lastActivity = 600
            try await store.delete("s9")
            expected.remove(at: 9)
        }
        let reopened = try SQLiteSessionStore(path: path)
        #expect(Set(try await reopened.list(workspace: nil)) == Set(expected))
        #expect(try await reopened.find(agentSessionId: "agent-7") == expected[7])
        #expect(try await reopened.integrityProblems() == [])
        // A second instance on the same file sees writes of the first at once.
        let other = try SQLiteSessionStore(path: path)
        try await reopened.create(record("late"))
        #expect(try await other.get("late") == record("late"))
    }

    @Test("open(stateDirectory:) creates the directory with mode 0700 and sessions.sqlite in it")
    func openInStateDirectory() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let state = dir.path + "/a/state"
        let store = try SQLiteSessionStore.open(stateDirectory: state)
        try await store.create(record("s1"))
        #expect(store.path == state + "/sessions.sqlite")
        #expect(FilePaths.exists(state + "/sessions.sqlite"))
        let attributes = try FileManager.default.attributesOfItem(atPath: state)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(try await SQLiteSessionStore.open(stateDirectory: state).get("s1") == record("s1"))

        let file = try dir.write("plain", "x")
        let error = #expect(throws: SessionStoreError.self) { try SQLiteSessionStore.open(stateDirectory: file + "/state") }
        #expect(error?.code == .unreadable)
        #expect(error?.message.contains("'\(file)/state'") == true)
    }

    @Test("A database with garbage over its header is refused at open and left untouched")
    func garbageHeader() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        try await makeStore(at: path, count: 20)
        var data = try bytes(path)
        for i in 0..<100 { data[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        try Data(data).write(to: URL(fileURLWithPath: path))
        try expectUnreadable(path, mentioning: "not a database")
        // Still refused the second time: nothing was "repaired" by replacing it.
        try expectUnreadable(path, mentioning: "not a database")
    }

    @Test("A plain text file is refused at open and left untouched")
    func plainText() throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = try dir.write("sessions.sqlite", "{\"version\":1,\"sessions\":{}}\nnot a database at all\n")
        try expectUnreadable(path, mentioning: "not a database")
    }

    @Test("A database with a damaged page is refused at open, not on a later read")
    func damagedPage() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        try await makeStore(at: path, count: 400)
        var data = try bytes(path)
        let pageSize = Int(data[16]) << 8 | Int(data[17])
        #expect(data.count >= 4 * pageSize)
        // Damage every page after the schema page.
        for i in pageSize..<data.count { data[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
        try Data(data).write(to: URL(fileURLWithPath: path))
        try expectUnreadable(path, mentioning: "corrupt")
    }

    @Test("A store migrated by a newer build is refused with the unknown migrations named")
    func newerSchema() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        do {
            let store = try SQLiteSessionStore(path: path)
            try await store.create(record("s1"))
            _ = try await store.rowsForTesting("INSERT INTO grdb_migrations (identifier) VALUES ('v2-future')")
        }
        try expectUnreadable(path, mentioning: "newer version of Switchboard")
        let error = #expect(throws: SessionStoreError.self) { try SQLiteSessionStore(path: path) }
        #expect(error?.message.contains("v2-future") == true)
    }

    @Test("Another program's SQLite database is refused, not taken over")
    func foreignDatabase() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        do {
            let store = try SQLiteSessionStore(path: path)
            _ = try await store.rowsForTesting("CREATE TABLE bookmarks (url TEXT)")
            _ = try await store.rowsForTesting("DROP TABLE grdb_migrations")
            _ = try await store.rowsForTesting("DROP TABLE sessions")
        }
        try expectUnreadable(path, mentioning: "not a session store (it has the tables bookmarks")
    }

    @Test("Every statement but list-all uses the primary key or an index")
    func queryPlans() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let store = try SQLiteSessionStore(path: dir.path + "/sessions.sqlite")
        for sql in SQLiteSessionStore.SQL.indexed {
            let plan = try await store.rowsForTesting("EXPLAIN QUERY PLAN " + sql).map { $0.last ?? "" }
            #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(sql): \(plan)")
            if sql == SQLiteSessionStore.SQL.listWorkspace {
                #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(sql): \(plan)")
            }
        }
    }

    @Test("Errors name the store file")
    func errorsNameTheFile() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        let store = try SQLiteSessionStore(path: path)
        let error = await #expect(throws: SessionStoreError.self) { try await store.touch("ghost", at: 1, model: nil) }
        #expect(error?.message == "Session 'ghost' does not exist in session store '\(path)'.")
        let missing = #expect(throws: SessionStoreError.self) { try SQLiteSessionStore(path: dir.path + "/no/such/dir/s.sqlite") }
        #expect(missing?.code == .unreadable)
        #expect(missing?.message.contains(dir.path + "/no/such/dir/s.sqlite") == true)
    }
}
