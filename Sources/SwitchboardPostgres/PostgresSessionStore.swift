import Logging
import PostgresNIO
import SwitchboardAdapterAPI
import SwitchboardCore

/// The ``SessionStore`` on PostgreSQL: several daemons (or tools) can share one database.
///
/// - Every query is parameterised: the statements are constants with `$n` placeholders, and
///   values travel separately as bindings.
/// - A write returns once PostgreSQL has committed it (with the server's default
///   `synchronous_commit = on`, that is after its WAL reached the disk). The frames of one
///   ``appendFrames(_:)`` call are one statement, so they are kept all or none.
/// - `seq` is unique per session (the log's primary key); a frame logged already is left as
///   it was.
/// - Connections come from a pool (`PostgresClient`), at most ``Options/poolSize`` of them;
///   the store runs the pool from ``open(_:options:logger:)`` until ``close()``.
/// - Every operation has a deadline (``Options/operationTimeout``): while the database is
///   unreachable, calls fail with ``SessionStoreError/Code/unavailable`` instead of waiting,
///   and ``health()`` says why; they succeed again once it is back.
/// - The schema is brought up to date at open (``PostgresSchema``), under an advisory lock
///   so that two processes opening a new database at once migrate it once.
public final class PostgresSessionStore: SessionStore {
    /// How the store connects.
    public struct Options: Sendable, Hashable {
        /// At most this many connections (the config's `store.poolSize`).
        public var poolSize: Int = StoreSettings.defaultPoolSize
        /// How long opening a connection may take.
        public var connectTimeout: Duration = .seconds(10)
        /// How long one operation may take, waiting for a connection included.
        public var operationTimeout: Duration = .seconds(10)
        /// How long ``health()`` waits for the database's answer.
        public var healthTimeout: Duration = .seconds(3)
        /// Whether each append to the event log signals the other nodes of a cluster
        /// (``PostgresBackplane/channel``) with the newest `seq` of each session, in the same
        /// statement: they learn of frames only once these are committed.
        public var notifyFrames = false

        /// The defaults: 10 connections, 10 s to connect, 10 s per operation.
        public init(poolSize: Int = StoreSettings.defaultPoolSize) {
            self.poolSize = poolSize
        }
    }

    /// The database, for messages (its ``DatabaseURL/description`` hides the password).
    public let url: DatabaseURL
    /// The options in force.
    public let options: Options
    let client: PostgresClient
    let logger: Logger
    /// Runs the pool (`PostgresClient.run()`) from open until ``close()``.
    private let runner: Task<Void, Never>

    private init(url: DatabaseURL, options: Options, client: PostgresClient, logger: Logger) {
        self.url = url
        self.options = options
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    deinit {
        runner.cancel()
    }

    /// Connects to the database, checks that it can be reached within
    /// ``Options/connectTimeout``, and brings its schema up to date.
    /// - Throws: ``SessionStoreError`` with code `unavailable` naming `host:port` and the
    ///   reason when the database cannot be reached (or refuses the login), and `unreadable`
    ///   when its schema is another program's or newer than this build.
    /// - Parameter logger: where the pool's background messages go (failed connection
    ///   attempts, at `info`); by default nowhere.
    public static func open(
        _ url: DatabaseURL, options: Options = Options(),
        logger: Logger = Logger(label: "switchboard.postgres") { _ in SwiftLogNoOpLogHandler() }
    ) async throws -> PostgresSessionStore {
        let configuration = try clientConfiguration(url, options: options)
        // One connection first, outside the pool: it fails with the reason (refused, no such
        // host, wrong password) where the pool would only keep retrying.
        try await probe(url, timeout: options.connectTimeout, logger: logger)
        let store = PostgresSessionStore(
            url: url, options: options, client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger
        )
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Stops the pool and closes its connections; waits until they are closed. Calls after it
    /// fail. Safe to call more than once.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// `postgres`.
    public var storeKind: String { "postgres" }

    // MARK: - Sessions

    /// Adds a new record; fails with ``SessionStoreError/Code/duplicateID`` when the id exists.
    public func create(_ record: SessionRecord) async throws {
        let inserted = try await rows("create session '\(record.id)'", SQL.insert, Self.bindings(record)) { _ in true }
        guard !inserted.isEmpty else {
            throw SessionStoreError(.duplicateID, "Session '\(record.id)' already exists in \(subject).")
        }
    }

    /// Records the agent's session id and the time of the link as the last activity.
    public func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) async throws {
        var binds = PostgresBindings()
        binds.append(agentSessionId)
        binds.append(time)
        binds.append(id)
        let changed = try await rows("link session '\(id)' to its agent session", SQL.link, binds) { _ in true }
        guard !changed.isEmpty else { throw notFound(id) }
    }

    /// Updates the last activity, and the model when one is given.
    public func touch(_ id: String, at time: Int64, model: String?) async throws {
        var binds = PostgresBindings()
        binds.append(time)
        binds.append(model)
        binds.append(id)
        let changed = try await rows("update session '\(id)'", SQL.touch, binds) { _ in true }
        guard !changed.isEmpty else { throw notFound(id) }
    }

    /// The record with our id, or `nil`.
    public func get(_ id: String) async throws -> SessionRecord? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await rows("read session '\(id)'", SQL.get, binds, Self.record).first
    }

    /// The most recently active record with this agent session id, or `nil`.
    public func find(agentSessionId: String) async throws -> SessionRecord? {
        var binds = PostgresBindings()
        binds.append(agentSessionId)
        return try await rows("look up an agent session", SQL.find, binds, Self.record).first
    }

    /// The records of one workspace (or all), newest activity first, ties by id.
    public func list(workspace: String?) async throws -> [SessionRecord] {
        var binds = PostgresBindings()
        guard let workspace else { return try await rows("list sessions", SQL.listAll, binds, Self.record) }
        binds.append(workspace)
        return try await rows("list sessions", SQL.listWorkspace, binds, Self.record)
    }

    /// Adds the record unless one with the same agent type and agent session id, or the
    /// same id, exists; returns the stored record. The check and the insert are one
    /// transaction under a lock on the agent session, so two nodes importing the same
    /// session store it once.
    public func importSession(_ record: SessionRecord) async throws -> SessionRecord {
        try await transaction("import session '\(record.id)'") { connection, logger in
            if let agentSessionId = record.agentSessionId {
                var lock = PostgresBindings()
                lock.append("import:\(record.agentType):\(agentSessionId)")
                try await connection.query(PostgresQuery(unsafeSQL: SQL.lockKey, binds: lock), logger: logger)
                var binds = PostgresBindings()
                binds.append(agentSessionId)
                binds.append(record.agentType)
                if let existing = try await Self.collect(connection.query(PostgresQuery(unsafeSQL: SQL.findForImport, binds: binds), logger: logger), Self.record).first {
                    return existing
                }
            }
            let inserted = try await Self.collect(connection.query(PostgresQuery(unsafeSQL: SQL.insert, binds: Self.bindings(record)), logger: logger)) { _ in true }
            if !inserted.isEmpty { return record }
            var binds = PostgresBindings()
            binds.append(record.id)
            return try await Self.collect(connection.query(PostgresQuery(unsafeSQL: SQL.get, binds: binds), logger: logger), Self.record).first ?? record
        }
    }

    /// Removes a record with its log, queue and client message ids, in one transaction; an
    /// unknown id does nothing. Its audit-log rows stay.
    public func delete(_ id: String) async throws {
        try await transaction("delete session '\(id)'") { connection, logger in
            for sql in SQL.deleteAll {
                var binds = PostgresBindings()
                binds.append(id)
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            }
        }
    }

    // MARK: - Beyond the protocol

    /// Inserts many records in one transaction, skipping ids that exist; returns how many
    /// were inserted. For migrations and benchmarks.
    public func insertAll(_ records: [SessionRecord]) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        // One JSON array as one parameter: arrays of optional text do not bind.
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let rowsJSON = JSONValue.array(records.map { record in
            .object([
                "id": .string(record.id), "workspace_name": .string(record.workspaceName), "agent_type": .string(record.agentType),
                "agent_session_id": text(record.agentSessionId), "project_path": text(record.projectPath), "model": text(record.model),
                "created_at": .number(String(record.createdAt)), "last_activity": .number(String(record.lastActivity)),
            ])
        })
        var binds = PostgresBindings()
        binds.append(rowsJSON.jsonText)
        return try await rows("insert \(records.count) sessions", SQL.insertMany, binds) { _ in true }.count
    }

    /// How many rows each of the store's tables holds, by table name: for `store migrate`'s
    /// report and for tests.
    public func rowCounts() async throws -> [String: Int] {
        try await rows("count the stored rows", SQL.counts, PostgresBindings()) { row in
            let (table, count) = try row.decode((String, Int).self)
            return (table, count)
        }.reduce(into: [:]) { $0[$1.0] = $1.1 }
    }

    /// Runs one statement without parameters and returns its first column as text: for tests
    /// that change the schema on purpose.
    package func executeForTesting(_ sql: String) async throws -> [String?] {
        try await rows("run a test statement", sql, PostgresBindings()) { row in
            try row.decode(String?.self)
        }
    }

    // MARK: - Statements

    /// The session table's statements; each uses the primary key or an index.
    enum SQL {
        static let columns = "id, workspace_name, agent_type, agent_session_id, project_path, model, created_at, last_activity"
        static let insert = "INSERT INTO sessions (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id"
        static let insertMany = """
            INSERT INTO sessions (\(columns))
            SELECT \(columns) FROM json_to_recordset($1::json) AS r(id text, workspace_name text, agent_type text,
                agent_session_id text, project_path text, model text, created_at bigint, last_activity bigint)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """
        static let link = "UPDATE sessions SET agent_session_id = $1, last_activity = $2 WHERE id = $3 RETURNING id"
        static let touch = "UPDATE sessions SET last_activity = $1, model = coalesce($2, model) WHERE id = $3 RETURNING id"
        static let get = "SELECT \(columns) FROM sessions WHERE id = $1"
        static let find = "SELECT \(columns) FROM sessions WHERE agent_session_id = $1 ORDER BY last_activity DESC, id LIMIT 1"
        static let findForImport = """
            SELECT \(columns) FROM sessions WHERE agent_session_id = $1 AND agent_type = $2 ORDER BY last_activity DESC, id LIMIT 1
            """
        static let listWorkspace = "SELECT \(columns) FROM sessions WHERE workspace_name = $1 ORDER BY last_activity DESC, id"
        static let listAll = "SELECT \(columns) FROM sessions ORDER BY last_activity DESC, id"
        /// A transaction-scoped advisory lock on a text key.
        static let lockKey = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
        static let deleteAll = [
            "DELETE FROM sessions WHERE id = $1",
            "DELETE FROM frames WHERE session_id = $1",
            "DELETE FROM queued_messages WHERE session_id = $1",
            "DELETE FROM client_messages WHERE session_id = $1",
        ]
        static let counts = """
            SELECT 'sessions', count(*) FROM sessions UNION ALL SELECT 'frames', count(*) FROM frames
            UNION ALL SELECT 'queued_messages', count(*) FROM queued_messages
            UNION ALL SELECT 'client_messages', count(*) FROM client_messages UNION ALL SELECT 'decisions', count(*) FROM decisions
            """
    }

    static func bindings(_ record: SessionRecord) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(record.id)
        binds.append(record.workspaceName)
        binds.append(record.agentType)
        binds.append(record.agentSessionId)
        binds.append(record.projectPath)
        binds.append(record.model)
        binds.append(record.createdAt)
        binds.append(record.lastActivity)
        return binds
    }

    /// Decodes a row of ``SQL/columns``.
    @Sendable static func record(_ row: PostgresRow) throws -> SessionRecord {
        let (id, workspace, agentType, agentSessionId, projectPath, model, createdAt, lastActivity) =
            try row.decode((String, String, String, String?, String?, String?, Int64, Int64).self)
        return SessionRecord(
            id: id, workspaceName: workspace, agentType: agentType, agentSessionId: agentSessionId, projectPath: projectPath,
            model: model, createdAt: createdAt, lastActivity: lastActivity
        )
    }

    private func notFound(_ id: String) -> SessionStoreError {
        SessionStoreError(.notFound, "Session '\(id)' does not exist in \(subject).")
    }
}
