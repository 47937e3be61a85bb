import Foundation
import Testing
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardTesting

/// What only the PostgreSQL store has: its schema history, several stores on one database,
/// an unreachable database at open, and the database lost and back while the store is open.
/// (The protocol's own rules run on it through ``StoreKind/postgres``.)
@Suite("PostgreSQL session store")
struct PostgresStoreTests {
    static func record(_ id: String, activity: Int64 = 1_000) -> SessionRecord {
        SessionRecord(id: id, workspaceName: "w", agentType: "claude", createdAt: 1_000, lastActivity: activity)
    }

    @Test("Opening migrates a new database once; opening again changes nothing and keeps the data")
    func migratesOnce() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        let first = try await PostgresSessionStore.open(url)
        #expect(try await first.appliedSchemaVersions() == Array(1...PostgresSchema.currentVersion))
        try await first.create(Self.record("kept"))
        await first.close()
        let again = try await PostgresSessionStore.open(url)
        #expect(try await again.appliedSchemaVersions() == Array(1...PostgresSchema.currentVersion))
        #expect(try await again.get("kept") == Self.record("kept"))
        await again.close()
    }

    @Test("Two stores opening one new database at once migrate it once and see each other's writes")
    func concurrentOpen() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        async let a = PostgresSessionStore.open(url, options: .init(poolSize: 2))
        async let b = PostgresSessionStore.open(url, options: .init(poolSize: 2))
        let (one, two) = try await (a, b)
        #expect(try await one.appliedSchemaVersions() == Array(1...PostgresSchema.currentVersion))
        try await one.create(Self.record("from-one"))
        #expect(try await two.get("from-one") == Self.record("from-one"))
        // Concurrent writers on one session's log: each seq is kept once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [one, two] {
                group.addTask {
                    try await store.appendFrames((0..<200).map {
                        LoggedFrame(sessionId: "shared", seq: $0, kind: .message, json: "{\"seq\":\($0)}", createdAt: 1)
                    })
                }
            }
            try await group.waitForAll()
        }
        #expect(try await two.frames("shared", after: -1, limit: 1_000).map(\.seq) == Array(0..<200))
        await one.close()
        await two.close()
    }

    @Test("Values that look like SQL are stored as values")
    func valuesAreParameters() async throws {
        let store = try await PostgresTestDatabase.open()
        let id = "x'); DROP TABLE sessions; --"
        let record = SessionRecord(id: id, workspaceName: "w\"'\\", agentType: "a$1", agentSessionId: "$2", projectPath: "/p'q",
                                   model: "m;", createdAt: 1, lastActivity: 2)
        try await store.create(record)
        #expect(try await store.get(id) == record)
        #expect(try await store.list(workspace: "w\"'\\") == [record])
        #expect(try await store.find(agentSessionId: "$2") == record)
        await store.close()
    }

    @Test("A database migrated by a newer build is refused, naming the unknown version")
    func newerSchemaRefused() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        let store = try await PostgresSessionStore.open(url)
        _ = try await store.executeForTesting("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0) RETURNING name")
        await store.close()
        let error = await #expect(throws: SessionStoreError.self) { try await PostgresSessionStore.open(url) }
        #expect(error?.code == .unreadable)
        #expect(error?.message.contains("schema versions 999 are unknown to this build") == true)
    }

    @Test("A database with another program's tables is refused, not taken over")
    func foreignDatabaseRefused() async throws {
        let cluster = try await PostgresCluster.shared()
        let text = try await cluster.createDatabase()
        let url = try DatabaseURL(parsing: text)
        // Make the foreign table through a store on a scratch schema history, then drop the history.
        let store = try await PostgresSessionStore.open(url)
        _ = try await store.executeForTesting("CREATE TABLE invoices (id int) ")
        _ = try await store.executeForTesting("DROP TABLE schema_migrations, sessions, frames, queued_messages, client_messages, decisions, cluster_nodes, session_leases, cluster_commands")
        await store.close()
        let error = await #expect(throws: SessionStoreError.self) { try await PostgresSessionStore.open(url) }
        #expect(error?.code == .unreadable)
        #expect(error?.message.contains("has the tables invoices and no Switchboard schema history") == true)
    }

    @Test("An unreachable database fails the open within the connect timeout, naming host:port, never the password")
    func unreachableAtOpen() async throws {
        let port = try PostgresCluster.freePort()
        let url = try DatabaseURL(parsing: "postgres://switchboard:s3cret-pw@127.0.0.1:\(port)/switchboard?sslmode=disable")
        var options = PostgresSessionStore.Options()
        options.connectTimeout = .seconds(5)
        let started = ContinuousClock.now
        let error = await #expect(throws: SessionStoreError.self) { try await PostgresSessionStore.open(url, options: options) }
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("PostgreSQL at 127.0.0.1:\(port)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("s3cret") == false)
        #expect(error?.message.lowercased().contains("refused") == true, "\(error?.message ?? "")")
    }

    @Test("The database lost while the store is open: calls fail within their deadline, health says why; back again, all works and nothing committed is lost")
    func databaseLostAndBack() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.shutDown() }
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        var options = PostgresSessionStore.Options(poolSize: 2)
        options.operationTimeout = .seconds(3)
        options.healthTimeout = .seconds(2)
        let store = try await PostgresSessionStore.open(url, options: options)
        try await store.create(Self.record("before"))
        try await store.appendFrames([LoggedFrame(sessionId: "before", seq: 0, kind: .message, json: "{}", createdAt: 1)])
        #expect(await store.health().isHealthy)

        try await cluster.stopServer()
        let started = ContinuousClock.now
        let error = await #expect(throws: SessionStoreError.self) { try await store.create(Self.record("during")) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        #expect(error?.message.contains("127.0.0.1:\(cluster.port)") == true, "\(error?.message ?? "")")
        await #expect(throws: SessionStoreError.self) { try await store.get("before") }
        let health = await store.health()
        #expect(health.problem?.contains("127.0.0.1:\(cluster.port)") == true, "\(health.problem ?? "healthy")")

        try await cluster.startServer()
        // The pool reconnects on its own: the next call succeeds (within its own deadline).
        let deadline = ContinuousClock.now + .seconds(30)
        var recovered = await store.health().isHealthy
        while !recovered && ContinuousClock.now < deadline {
            recovered = await store.health().isHealthy
        }
        #expect(recovered)
        #expect(try await store.get("before") == Self.record("before"))
        #expect(try await store.frames("before", after: -1, limit: 10).count == 1)
        #expect(try await store.get("during") == nil)
        try await store.create(Self.record("after"))
        #expect(try await store.get("after") != nil)
        await store.close()
        try await cluster.stopServer()
    }
}

