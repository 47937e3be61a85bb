import SwitchboardCore
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension SQLiteSessionStore {
    /// The schema's history. Migrations are only ever appended: a released migration is
    /// never edited, renamed or removed.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sessions") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                    id TEXT NOT NULL PRIMARY KEY,
                    workspace_name TEXT NOT NULL,
                    agent_type TEXT NOT NULL,
                    agent_session_id TEXT,
                    project_path TEXT,
                    model TEXT,
                    created_at INTEGER NOT NULL,
                    last_activity INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX sessions_by_agent_session_id ON sessions (agent_session_id);
                CREATE INDEX sessions_by_workspace_activity ON sessions (workspace_name, last_activity DESC);
                """)
        }
        migrator.registerMigration("v2-decisions") { db in
            try db.execute(sql: """
                CREATE TABLE decisions (
                    id TEXT NOT NULL PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    agent_type TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    tool_name TEXT NOT NULL,
                    tool_id TEXT,
                    summary TEXT NOT NULL,
                    input TEXT NOT NULL,
                    options TEXT NOT NULL,
                    state TEXT NOT NULL,
                    decision TEXT,
                    decided_by TEXT,
                    decider TEXT,
                    message TEXT,
                    answers TEXT,
                    requested_at INTEGER NOT NULL,
                    resolved_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX decisions_by_session ON decisions (session_id, requested_at DESC);
                CREATE INDEX decisions_by_state ON decisions (state, requested_at DESC);
                """)
        }
        migrator.registerMigration("v3-queue") { db in
            try db.execute(sql: """
                CREATE TABLE queued_messages (
                    queue_id TEXT NOT NULL PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    content TEXT NOT NULL,
                    client_message_id TEXT,
                    queued_at INTEGER NOT NULL,
                    position INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX queued_by_session ON queued_messages (session_id, position);
                CREATE TABLE client_messages (
                    session_id TEXT NOT NULL,
                    client_message_id TEXT NOT NULL,
                    seq INTEGER,
                    queue_id TEXT,
                    PRIMARY KEY (session_id, client_message_id)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }()

    /// The event log's own database (`<name>-log.sqlite` beside the store's file): one row per
    /// frame, written with `synchronous = NORMAL` so streaming never waits for the disk.
    static let logMigrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-frames") { db in
            try db.execute(sql: """
                CREATE TABLE frames (
                    session_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    json TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (session_id, seq)
                ) WITHOUT ROWID;
                CREATE INDEX frames_by_time ON frames (created_at);
                """)
        }
        return migrator
    }()

    /// The event log's file for the store at `path`: `sessions.sqlite` → `sessions-log.sqlite`.
    static func logPath(for path: String) -> String {
        path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) + "-log.sqlite" : path + "-log"
    }

    /// Checks the file, then opens the pool and migrates it. Another process opening the
    /// same new file at the same moment can make SQLite answer "database is locked" without
    /// waiting (switching to WAL, recovering the WAL index): that is retried for up to
    /// ``busyTimeout`` before it is reported.
    static func openPool(_ path: String, syncEveryCommit: Bool, migrator: DatabaseMigrator = migrator) throws(SessionStoreError) -> DatabasePool {
        let deadline = ContinuousClock.now + .seconds(busyTimeout)
        while true {
            do {
                return try openPoolOnce(path, syncEveryCommit: syncEveryCommit, migrator: migrator)
            } catch {
                let busy = [ResultCode.SQLITE_BUSY, .SQLITE_LOCKED].contains((error.cause as? DatabaseError)?.resultCode.primaryResultCode)
                guard busy, ContinuousClock.now < deadline else { throw error }
                usleep(20_000)
            }
        }
    }

    private static func openPoolOnce(_ path: String, syncEveryCommit: Bool, migrator: DatabaseMigrator) throws(SessionStoreError) -> DatabasePool {
        func unreadable(_ reason: String, cause: (any Error)? = nil) -> SessionStoreError {
            SessionStoreError(.unreadable, "Session store '\(path)' cannot be opened: \(reason).", cause: cause)
        }
        let directory = FilePaths.directory(of: path)
        if !FilePaths.isDirectory(directory) {
            throw unreadable("its directory '\(directory)' does not exist")
        }
        var configuration = Configuration()
        configuration.label = "SwitchboardSessionStore"
        // Writers wait for other processes' writes; GRDB gives its readers 10 s already.
        configuration.busyMode = .timeout(busyTimeout)

        // Look at an existing file through a read-only connection before anything can
        // write to it (opening a pool switches to WAL and may write a WAL frame).
        if fileSize(path) != 0 {
            try inspect(path, configuration, migrator: migrator) { unreadable($0) }
        }

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets NORMAL for WAL, which may lose the last commits on power loss;
            // the protocol promises that a write is durable once it returns.
            if syncEveryCommit {
                try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            }
        } catch {
            throw unreadable(reason(error), cause: error)
        }
        let completed: Bool
        do {
            completed = try pool.read { try migrator.hasCompletedMigrations($0) }
        } catch {
            throw unreadable(reason(error), cause: error)
        }
        if !completed {
            do {
                try migrator.migrate(pool)
            } catch {
                // Another process may have migrated the file at the same moment; then the
                // losing migration fails on the existing table, and the schema is complete.
                let completedElsewhere = (try? pool.read { try migrator.hasCompletedMigrations($0) }) ?? false
                if !completedElsewhere {
                    throw unreadable("its schema could not be brought up to date: \(reason(error))", cause: error)
                }
            }
        }
        return pool
    }

    /// Refuses a file that is not a database, is corrupt (SQLite's `quick_check`), is
    /// another program's database, or has schema migrations this build does not know.
    /// Reads only.
    private static func inspect(
        _ path: String,
        _ configuration: Configuration,
        migrator: DatabaseMigrator,
        _ unreadable: (String) -> SessionStoreError
    ) throws(SessionStoreError) {
        var readOnly = configuration
        readOnly.readonly = true
        let known = migrator.migrations
        let problems: [String], tables: [String], applied: Set<String>
        do {
            let queue = try DatabaseQueue(path: path, configuration: readOnly)
            (problems, tables, applied) = try queue.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA quick_check"),
                    try String.fetchAll(db, sql: """
                        SELECT name FROM sqlite_master WHERE type = 'table'
                        AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'grdb\\_%' ESCAPE '\\'
                        ORDER BY name
                        """),
                    try migrator.appliedIdentifiers(db)
                )
            }
            try queue.close()
        } catch {
            throw SessionStoreError(.unreadable, unreadable(reason(error)).message, cause: error)
        }
        if problems != ["ok"] {
            throw unreadable("the database is corrupt (SQLite quick_check: \(problems.prefix(3).joined(separator: "; ")))")
        }
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty {
            throw unreadable("it was written by a newer version of Switchboard (its schema migrations \(unknown.joined(separator: ", ")) are unknown to this build, which knows \(known.joined(separator: ", ")))")
        }
        if applied.isEmpty && !tables.isEmpty {
            throw unreadable("it is an SQLite database but not a session store (it has the tables \(tables.joined(separator: ", ")) and no schema history)")
        }
    }

    /// The file's size in bytes, or 0 when it does not exist.
    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// A failure as a ``SessionStoreError`` naming the file; SQLite's own message, never
    /// the statement's bound values.
    static func storeError(_ error: any Error, path: String, action: String, code: SessionStoreError.Code) -> any Error {
        if error is SessionStoreError || error is CancellationError { return error }
        var code = code
        if let database = error as? DatabaseError,
           database.resultCode == .SQLITE_CORRUPT || database.resultCode == .SQLITE_NOTADB {
            code = .unreadable
        }
        return SessionStoreError(code, "Session store '\(path)' could not \(action): \(reason(error)).")
    }

    /// The reason in an error, without bound values or SQL.
    static func reason(_ error: any Error) -> String {
        if let database = error as? DatabaseError {
            let message = "\(database.message ?? "unknown error") (SQLite error \(database.extendedResultCode.rawValue))"
            return database.resultCode == .SQLITE_CORRUPT ? "the database is corrupt: \(message)" : message
        }
        if error is RowDecodingError {
            return "a stored record has a value of the wrong type"
        }
        return String(describing: error)
    }
}

/// Creates a state directory, and missing parents, with mode 0700.
enum StateDirectory {
    /// A directory that could not be created.
    struct Failure: Error {
        var reason: String
    }

    static func create(_ path: String) throws(Failure) {
        if FilePaths.isDirectory(path) { return }
        let parent = FilePaths.directory(of: path)
        if parent != path && !parent.isEmpty && parent != "." && parent != "/" {
            try create(parent)
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw Failure(reason: String(cString: strerror(errno)))
        }
        if !FilePaths.isDirectory(path) {
            throw Failure(reason: "'\(path)' exists and is not a directory")
        }
    }
}
