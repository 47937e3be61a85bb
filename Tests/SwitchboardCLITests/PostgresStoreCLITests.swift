import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardTesting

/// The built `switchboard` on a PostgreSQL store: `config validate`, `serve` with the
/// database unreachable, lost and back, and `store migrate` from SQLite.
@Suite("PostgreSQL store through the CLI and the daemon", .childProcessGate)
struct PostgresStoreCLITests {
    static let agents = #"{"claude": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": [{"messages":[{"type":"assistant","content":"ok"}]}]}}}"#

    func switchboard(_ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(60)) async throws -> ChildProcess.Result {
        try await ChildProcess.launch(BuildProducts.executable("switchboard"), arguments, environment: environment, timeout: timeout)
    }

    @Test("`config validate` names the store's bad kind, pool size and missing URL; a good one is shown without its password")
    func validate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bad = try dir.write("bad.json", #"{"store": {"kind": "postgres", "poolSize": 0}}"#)
        let failed = try await switchboard(["config", "validate", bad], environment: ["SWITCHBOARD_DATABASE_URL": ""])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("store.poolSize: must be a whole number of connections from 1 to 100, not 0"), "\(failed.stderr)")
        #expect(failed.stderr.contains("store.url: is required for {\"kind\": \"postgres\"}"), "\(failed.stderr)")
        let kind = try dir.write("kind.json", #"{"store": {"kind": "oracle"}}"#)
        let wrongKind = try await switchboard(["config", "validate", kind])
        #expect(wrongKind.status != 0)
        #expect(wrongKind.stderr.contains(#"store.kind: must be "sqlite" or "postgres", not "oracle""#), "\(wrongKind.stderr)")

        let good = try dir.write("good.json", #"{"store": {"kind": "postgres", "poolSize": 5}}"#)
        let ok = try await switchboard(["config", "validate", good], environment: ["SWITCHBOARD_DATABASE_URL": "postgres://sb:hunter2@db.example/sw"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "Config '\(good)' is valid (0 agent entries; store: postgres://sb:***@db.example:5432/sw, pool of 5).\n")
        #expect(!(ok.stdout + ok.stderr).contains("hunter2"))
    }

    @Test("`serve` with the database unreachable exits non-zero within its deadline, naming host:port and the reason, not the password")
    func serveUnreachable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let port = try PostgresCluster.freePort()
        let config = try dir.write("config.json", """
            {"stateDirectory": "state", "store": {"kind": "postgres", "url": "postgres://sb:hunter2@127.0.0.1:\(port)/sw?sslmode=disable"}}
            """)
        let started = ContinuousClock.now
        let result = try await switchboard(["serve", "--config", config, "--port", "0"], timeout: .seconds(40))
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(result.status != 0)
        #expect(result.stderr.contains("PostgreSQL at 127.0.0.1:\(port)"), "\(result.stderr)")
        #expect(result.stderr.contains("cannot be reached"), "\(result.stderr)")
        #expect(result.stderr.lowercased().contains("refused"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("hunter2"))
        #expect(!result.stdout.contains("listening on"))
    }

    @Test("The daemon on PostgreSQL: /health names the store; the database lost gives 503 and refused writes; back, it recovers without a restart")
    func daemonLosesDatabase() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.shutDown() }
        let url = try await cluster.createDatabase()
        let daemon = try await LiveDaemon(agents: Self.agents, extraConfig: #", "store": {"kind": "postgres", "url": "\#(url)", "poolSize": 3}"#)
        let healthy = try await daemon.http(.GET, "/health", token: .some(nil))
        #expect(healthy.status == 200)
        #expect(healthy.body == .object(["status": .string("ok"), "store": .string("postgres")]))
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"kept-1"}"#).status == 201)

        try await cluster.stopServer()
        let lost = try await daemon.http(.GET, "/health", token: .some(nil))
        #expect(lost.status == 503)
        #expect(lost.body["store"] == .string("postgres"))
        #expect(lost.body["reason"]?.stringValue?.contains("127.0.0.1:\(cluster.port)") == true, "\(lost.body)")
        let refused = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"lost-1"}"#)
        #expect(refused.status == 503, "\(refused.body)")
        #expect(refused.body["error"]?["code"] == .string("store_unavailable"))
        try await daemon.process.errorLines.wait(within: .seconds(20)) { $0.contains { $0.contains("session store unusable") } }

        try await cluster.startServer()
        // The maintenance check (every 5 s) notices the database is back.
        try await daemon.process.errorLines.wait(within: .seconds(40)) { $0.contains { $0.contains("session store usable again") } }
        #expect(try await daemon.http(.GET, "/health", token: .some(nil)).status == 200)
        #expect(try await daemon.http(.GET, "/v1/sessions/kept-1").status == 200)
        #expect(try await daemon.http(.GET, "/v1/sessions/lost-1").status == 404)
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"after-1"}"#).status == 201)
        #expect(try await daemon.stop() == 0)
        try await cluster.stopServer()
    }

    @Test("`store migrate --to postgres` copies sessions, frames, queue, client message ids and decisions; a second run copies nothing")
    func migrate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sqlite = try SQLiteSessionStore.open(stateDirectory: dir.path + "/state")
        for i in 0..<3 {
            try await sqlite.create(SessionRecord(id: "s\(i)", workspaceName: "w", agentType: "claude", agentSessionId: "a\(i)",
                                                 createdAt: Int64(i), lastActivity: Int64(10 + i)))
        }
        try await sqlite.appendFrames((0..<7_500).map { LoggedFrame(sessionId: "s0", seq: $0, kind: .message, json: "{\"seq\":\($0)}", createdAt: 5) })
        try await sqlite.appendFrames([LoggedFrame(sessionId: "s1", seq: 0, kind: .notice, json: "{}", createdAt: 6)])
        try await sqlite.enqueueMessage(QueuedMessage(queueId: "q-1", sessionId: "s1", content: "later", clientMessageId: "c1", queuedAt: 7))
        try await sqlite.enqueueMessage(QueuedMessage(queueId: "q-2", sessionId: "s1", content: "after that", queuedAt: 8))
        try await sqlite.recordClientMessage(ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", queueId: "q-1"))
        try await sqlite.recordClientMessage(ClientMessageRecord(sessionId: "s0", clientMessageId: "c0", seq: 3))
        let decision = DecisionRecord(id: "d1", sessionId: "s0", agentType: "claude", kind: .permission, toolName: "Bash",
                                      summary: "ls", options: ["allow", "deny"], state: .resolved, decision: "allow", decidedBy: "client",
                                      answers: ["k": "v"], requestedAt: 9, resolvedAt: 10)
        try await sqlite.recordDecision(decision)

        let cluster = try await PostgresCluster.shared()
        let url = try await cluster.createDatabase()
        let config = try dir.write("config.json", #"{"stateDirectory": "state"}"#)
        let first = try await switchboard(["store", "migrate", "--to", "postgres", "--url", url, "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("sessions: 3 copied, 0 already there"), "\(first.stdout)")
        #expect(first.stdout.contains("frames: 7501 copied, 0 already there"))
        #expect(first.stdout.contains("queued messages: 2 copied, 0 already there"))
        #expect(first.stdout.contains("client message ids: 2 copied, 0 already there"))
        #expect(first.stdout.contains("decision requests: 1 copied, 0 already there"))

        let second = try await switchboard(["store", "migrate", "--to", "postgres", "--url", url, "--config", config])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("sessions: 0 copied, 3 already there"), "\(second.stdout)")
        #expect(second.stdout.contains("frames: 0 copied, 7501 already there"))
        #expect(second.stdout.contains("queued messages: 0 copied, 2 already there"))
        #expect(second.stdout.contains("client message ids: 0 copied, 2 already there"))
        #expect(second.stdout.contains("decision requests: 0 copied, 1 already there"))

        let postgres = try await PostgresSessionStore.open(try DatabaseURL(parsing: url))
        #expect(try await postgres.list(workspace: nil) == (try await sqlite.list(workspace: nil)))
        #expect(try await postgres.frames("s0", after: 7_000, limit: 1_000) == (try await sqlite.frames("s0", after: 7_000, limit: 1_000)))
        #expect(try await postgres.frameBounds("s0") == 0...7_499)
        #expect(try await postgres.queuedMessages(nil) == (try await sqlite.queuedMessages(nil)))
        #expect(try await postgres.clientMessage("s1", "c1") == ClientMessageRecord(sessionId: "s1", clientMessageId: "c1", queueId: "q-1"))
        #expect(try await postgres.decision("d1") == decision)
        #expect(try await postgres.rowCounts() == ["sessions": 3, "frames": 7_501, "queued_messages": 2, "client_messages": 2, "decisions": 1])
        await postgres.close()

        let wrong = try await switchboard(["store", "migrate", "--to", "mysql", "--url", url, "--config", config])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("--to must be 'postgres', not 'mysql'"), "\(wrong.stderr)")
    }
}
