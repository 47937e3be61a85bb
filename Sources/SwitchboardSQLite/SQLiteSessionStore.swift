import SwitchboardCore
import GRDB

/// The embedded ``SessionStore``: one SQLite database file in WAL mode, shared safely by
/// every process that opens it.
///
/// - Every operation is one indexed statement (or a few), so its cost grows with log n,
///   not with the number of sessions.
/// - A write returns once it is committed and synced to disk (`synchronous = FULL`); a
///   process killed mid-write loses only that write.
/// - The event log lives in a database of its own beside it (``logPath``), committed with
///   `synchronous = NORMAL`: a frame is safe from a crash of any process once its append
///   returns, and a power loss can lose the frames since the log's last checkpoint.
/// - Writers in other processes wait for each other (busy timeout ``busyTimeout``) instead
///   of failing, and each write runs in an `IMMEDIATE` transaction, so no update is lost.
/// - Opening checks the file (``init(path:)``): an unreadable, corrupt or foreign file, or
///   one written by a newer build, is reported and left exactly as it was.
public final class SQLiteSessionStore: SessionStore {
    /// The file name used inside a state directory.
    public static let fileName = "sessions.sqlite"

    /// How long a write waits for another process's write to finish before failing.
    public static let busyTimeout: Double = 10

    /// The database file, as given.
    public let path: String

    let pool: DatabasePool
    /// The event log's database (``logPath``).
    let logPool: DatabasePool
    /// The event log's file: `sessions-log.sqlite` beside `sessions.sqlite`.
    public let logPath: String
    /// The files opened, to notice when one is removed or replaced (see ``health()``).
    let identity: FileIdentity?
    let logIdentity: FileIdentity?

    /// Opens (creating if missing) the store at `<stateDirectory>/sessions.sqlite`, creating
    /// the directory with mode 0700 if it does not exist.
    /// - Throws: ``SessionStoreError`` with code `unreadable` when the directory cannot be
    ///   created or the file cannot be opened (see ``init(path:)``).
    public static func open(stateDirectory: String) throws(SessionStoreError) -> SQLiteSessionStore {
        do {
            try StateDirectory.create(stateDirectory)
        } catch {
            throw SessionStoreError(
                .unreadable,
                "Session store directory '\(stateDirectory)' cannot be created: \(error.reason)."
            )
        }
        return try SQLiteSessionStore(path: FilePaths.join(stateDirectory, fileName))
    }

    /// Opens the store in the database file at `path`, creating the file when it is missing
    /// and bringing its schema up to date.
    ///
    /// The file is checked before it is used: SQLite's `quick_check` must pass, and the
    /// schema must be this store's (or empty). Nothing is ever deleted, truncated or
    /// replaced.
    /// - Throws: ``SessionStoreError`` with code `unreadable`, naming the file and the
    ///   reason, when the file is not a database, is corrupt, cannot be accessed, is another
    ///   program's database, or was migrated by a newer Switchboard.
    public convenience init(path: String) throws(SessionStoreError) {
        try self.init(path: path, syncEveryCommit: true)
    }

    /// Opens the store; with `syncEveryCommit` false, commits use `synchronous = NORMAL` and
    /// may be lost on power loss (not on a process crash). For benchmarks that show what the
    /// sync costs.
    package init(path: String, syncEveryCommit: Bool) throws(SessionStoreError) {
        self.path = path
        self.pool = try Self.openPool(path, syncEveryCommit: syncEveryCommit)
        self.identity = try? FileIdentity.of(path).get()
        let logPath = Self.logPath(for: path)
        self.logPath = logPath
        self.logPool = try Self.openPool(logPath, syncEveryCommit: false, migrator: Self.logMigrator)
        self.logIdentity = try? FileIdentity.of(logPath).get()
    }

    // MARK: - SessionStore

    /// `sqlite`.
    public var storeKind: String { "sqlite" }

    /// Adds a new record; fails with ``SessionStoreError/Code/duplicateID`` when the id exists.
    public func create(_ record: SessionRecord) async throws {
        let inserted = try await write("create session '\(record.id)'") { db in
            try Self.insert(record, db)
        }
        guard inserted else {
            throw SessionStoreError(.duplicateID, "Session '\(record.id)' already exists in session store '\(path)'.")
        }
    }

    /// Records the agent's session id and the time of the link as the last activity.
    public func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) async throws {
        let changed = try await write("link session '\(id)' to its agent session") { db in
            try db.cachedStatement(sql: SQL.link).execute(arguments: [agentSessionId, time, id])
            return db.changesCount > 0
        }
        guard changed else { throw notFound(id) }
    }

    /// Updates the last activity, and the model when one is given.
    public func touch(_ id: String, at time: Int64, model: String?) async throws {
        let changed = try await write("update session '\(id)'") { db in
            try db.cachedStatement(sql: SQL.touch).execute(arguments: [time, model, id])
            return db.changesCount > 0
        }
        guard changed else { throw notFound(id) }
    }

    /// The record with our id, or `nil`.
    public func get(_ id: String) async throws -> SessionRecord? {
        try await read("read session '\(id)'") { db in
            try Self.fetch(db, SQL.get, [id]).first
        }
    }

    /// The most recently active record with this agent session id, or `nil`.
    public func find(agentSessionId: String) async throws -> SessionRecord? {
        try await read("look up an agent session") { db in
            try Self.fetch(db, SQL.find, [agentSessionId]).first
        }
    }

    /// The records of one workspace (or all), newest activity first, ties by id.
    public func list(workspace: String?) async throws -> [SessionRecord] {
        try await read("list sessions") { db in
            if let workspace {
                try Self.fetch(db, SQL.listWorkspace, [workspace])
            } else {
                try Self.fetch(db, SQL.listAll, [])
            }
        }
    }

    /// Adds the record unless one with the same agent type and agent session id, or the
    /// same id, exists; returns the stored record. The check and the insert are one
    /// transaction, so two processes importing the same session store it once.
    public func importSession(_ record: SessionRecord) async throws -> SessionRecord {
        try await write("import session '\(record.id)'") { db in
            if let agentSessionId = record.agentSessionId,
               let existing = try Self.fetch(db, SQL.findForImport, [agentSessionId, record.agentType]).first {
                return existing
            }
            if let existing = try Self.fetch(db, SQL.get, [record.id]).first {
                return existing
            }
            _ = try Self.insert(record, db)
            return record
        }
    }

    /// Removes a record; an unknown id does nothing.
    public func delete(_ id: String) async throws {
        try await write("delete session '\(id)'") { db in
            try db.cachedStatement(sql: SQL.delete).execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM queued_messages WHERE session_id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM client_messages WHERE session_id = ?").execute(arguments: [id])
        }
        try await writeLog("delete the log of session '\(id)'") { db in
            try db.cachedStatement(sql: "DELETE FROM frames WHERE session_id = ?").execute(arguments: [id])
        }
    }

    // MARK: - Beyond the protocol

    /// Runs SQLite's full `integrity_check` and returns the problems it reports; empty when
    /// the database is intact. Reads the whole file: for diagnostics, not for every open.
    public func integrityProblems() async throws -> [String] {
        try await read("check the database's integrity") { db in
            let rows = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            return rows == ["ok"] ? [] : rows
        }
    }

    /// Inserts many records in one transaction, skipping ids that exist; returns how many
    /// were inserted. For filling stores in benchmarks and migrations.
    package func insertAll(_ records: [SessionRecord]) async throws -> Int {
        try await write("insert \(records.count) sessions") { db in
            var count = 0
            for record in records where try Self.insert(record, db) { count += 1 }
            return count
        }
    }

    /// Runs one SQL statement, with its parameters left NULL, and returns its rows as
    /// text: for tests that damage the schema on purpose or check query plans.
    package func rowsForTesting(_ sql: String) async throws -> [[String]] {
        try await pool.write { db in
            let statement = try db.makeStatement(sql: sql)
            statement.setUncheckedArguments([])
            return try Row.fetchAll(statement).map { row in
                row.databaseValues.map { $0.isNull ? "NULL" : String(describing: $0.storage.value ?? "") }
            }
        }
    }

    // MARK: - Statements

    /// Every statement the store runs; each uses the primary key or an index.
    package enum SQL {
        static let columns =
            "id, workspace_name, agent_type, agent_session_id, project_path, model, created_at, last_activity"
        package static let insert =
            "INSERT INTO sessions (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
        package static let link = "UPDATE sessions SET agent_session_id = ?, last_activity = ? WHERE id = ?"
        package static let touch = "UPDATE sessions SET last_activity = ?, model = coalesce(?, model) WHERE id = ?"
        package static let get = "SELECT \(columns) FROM sessions WHERE id = ?"
        package static let find =
            "SELECT \(columns) FROM sessions WHERE agent_session_id = ? ORDER BY last_activity DESC, id LIMIT 1"
        package static let findForImport = """
            SELECT \(columns) FROM sessions WHERE agent_session_id = ? AND agent_type = ?
            ORDER BY last_activity DESC, id LIMIT 1
            """
        package static let listWorkspace =
            "SELECT \(columns) FROM sessions WHERE workspace_name = ? ORDER BY last_activity DESC, id"
        /// Returns every record, so it reads the whole table (and sorts it).
        package static let listAll = "SELECT \(columns) FROM sessions ORDER BY last_activity DESC, id"
        package static let delete = "DELETE FROM sessions WHERE id = ?"
        /// The statements that must stay O(log n).
        package static let indexed = [insert, link, touch, get, find, findForImport, listWorkspace, delete]
    }

    /// Inserts `record`; `false` when its id exists.
    static func insert(_ record: SessionRecord, _ db: Database) throws -> Bool {
        try db.cachedStatement(sql: SQL.insert).execute(arguments: [
            record.id, record.workspaceName, record.agentType, record.agentSessionId,
            record.projectPath, record.model, record.createdAt, record.lastActivity,
        ])
        return db.changesCount > 0
    }

    /// Runs a query selecting ``columns`` and decodes every row.
    static func fetch(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [SessionRecord] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var records: [SessionRecord] = []
        while let row = try rows.next() {
            records.append(SessionRecord(
                id: try row.decode(atIndex: 0),
                workspaceName: try row.decode(atIndex: 1),
                agentType: try row.decode(atIndex: 2),
                agentSessionId: try row.decode(atIndex: 3),
                projectPath: try row.decode(atIndex: 4),
                model: try row.decode(atIndex: 5),
                createdAt: try row.decode(atIndex: 6),
                lastActivity: try row.decode(atIndex: 7)
            ))
        }
        return records
    }

    // MARK: - Running and errors

    func write<T: Sendable>(_ action: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try checkWritable(action, committed: false)
        let result: T
        do {
            result = try await pool.write(body)
        } catch {
            throw Self.storeError(error, path: path, action: action, code: .writeFailed)
        }
        try checkWritable(action, committed: true)
        return result
    }

    /// A write to the event log's database.
    func writeLog<T: Sendable>(_ action: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try checkWritable(action, committed: false)
        let result: T
        do {
            result = try await logPool.write(body)
        } catch {
            throw Self.storeError(error, path: logPath, action: action, code: .writeFailed)
        }
        try checkWritable(action, committed: true)
        return result
    }

    /// A read of the event log's database.
    func readLog<T: Sendable>(_ action: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await logPool.read(body)
        } catch {
            throw Self.storeError(error, path: logPath, action: action, code: .unreadable)
        }
    }

    func read<T: Sendable>(_ action: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error, path: path, action: action, code: .unreadable)
        }
    }

    private func notFound(_ id: String) -> SessionStoreError {
        SessionStoreError(.notFound, "Session '\(id)' does not exist in session store '\(path)'.")
    }
}
