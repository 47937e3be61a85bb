import Logging
import PostgresNIO
import SwitchboardCore

/// The PostgreSQL store's schema history: numbered migrations, recorded in
/// `schema_migrations`. Migrations are only ever appended: a released one is never edited,
/// renumbered or removed.
///
/// Opening a store applies the missing ones in one transaction, under an advisory
/// lock, so two processes opening a new database at once migrate it once. A database that has
/// migrations this build does not know (a newer Switchboard migrated it) is refused, as is one
/// that has tables of another program and no schema history.
public enum PostgresSchema {
    /// One step of the schema.
    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [String]
    }

    /// The migrations, in order. Text keys use the `C` collation, so that ordering by id is
    /// by bytes, as in the SQLite store.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "sessions, event log, queue, client messages, decisions", statements: [
            """
            CREATE TABLE sessions (
                id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                workspace_name TEXT COLLATE "C" NOT NULL,
                agent_type TEXT COLLATE "C" NOT NULL,
                agent_session_id TEXT COLLATE "C",
                project_path TEXT,
                model TEXT,
                created_at BIGINT NOT NULL,
                last_activity BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sessions_by_agent_session_id ON sessions (agent_session_id, last_activity DESC, id)",
            "CREATE INDEX sessions_by_workspace_activity ON sessions (workspace_name, last_activity DESC, id)",
            "CREATE INDEX sessions_by_activity ON sessions (last_activity DESC, id)",
            """
            CREATE TABLE frames (
                session_id TEXT COLLATE "C" NOT NULL,
                seq BIGINT NOT NULL,
                kind TEXT NOT NULL,
                json TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (session_id, seq)
            )
            """,
            "CREATE INDEX frames_by_time ON frames (created_at)",
            """
            CREATE TABLE queued_messages (
                queue_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                session_id TEXT COLLATE "C" NOT NULL,
                content TEXT NOT NULL,
                client_message_id TEXT,
                queued_at BIGINT NOT NULL,
                position BIGINT GENERATED ALWAYS AS IDENTITY
            )
            """,
            "CREATE INDEX queued_by_session ON queued_messages (session_id, position)",
            """
            CREATE TABLE client_messages (
                session_id TEXT COLLATE "C" NOT NULL,
                client_message_id TEXT COLLATE "C" NOT NULL,
                seq BIGINT,
                queue_id TEXT,
                PRIMARY KEY (session_id, client_message_id)
            )
            """,
            """
            CREATE TABLE decisions (
                id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                session_id TEXT COLLATE "C" NOT NULL,
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
                requested_at BIGINT NOT NULL,
                resolved_at BIGINT
            )
            """,
            "CREATE INDEX decisions_by_session ON decisions (session_id, requested_at DESC, id DESC)",
            "CREATE INDEX decisions_by_state ON decisions (state, requested_at DESC, id DESC)",
            "CREATE INDEX decisions_by_time ON decisions (requested_at DESC, id DESC)",
        ]),
        Migration(version: 2, name: "cluster nodes, session leases, commands between nodes", statements: [
            """
            CREATE TABLE cluster_nodes (
                node_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                advertise TEXT,
                started_at BIGINT NOT NULL,
                heartbeat_at BIGINT NOT NULL,
                live_sessions INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE session_leases (
                session_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                owner TEXT COLLATE "C" NOT NULL,
                expires_at BIGINT NOT NULL,
                epoch BIGINT NOT NULL
            )
            """,
            "CREATE INDEX session_leases_by_owner ON session_leases (owner)",
            """
            CREATE TABLE cluster_commands (
                id BIGSERIAL PRIMARY KEY,
                session_id TEXT COLLATE "C" NOT NULL,
                from_node TEXT COLLATE "C" NOT NULL,
                to_node TEXT COLLATE "C" NOT NULL,
                body TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                answer TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX cluster_commands_pending ON cluster_commands (to_node, id) WHERE state = 'pending'",
        ]),
    ]

    /// How long bringing the schema up to date may take at most.
    static let migrationTimeout = Duration.seconds(60)

    /// The newest version this build knows.
    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// The key of the advisory lock migrations hold (any constant no other program uses).
    static let lockKey: Int64 = 0x5357_4254_4d49_4752 // "SWBTMIGR"

    static let createHistory = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )
        """
    static let applied = "SELECT version FROM schema_migrations ORDER BY version"
    static let record = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, (extract(epoch FROM now()) * 1000)::bigint)"
    static let lock = "SELECT pg_advisory_xact_lock($1)"
    static let otherTables = """
        SELECT table_name::text FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY table_name
        """
}

extension PostgresSessionStore {
    /// Applies the migrations the database lacks. Idempotent: a database that is up to date
    /// is only read.
    func migrate() async throws {
        let subject = self.subject
        // Once per database, at open: it may take longer than one operation (a busy server).
        try await transaction("bring the schema up to date", timeout: max(options.operationTimeout, PostgresSchema.migrationTimeout)) { connection, logger in
            var lock = PostgresBindings()
            lock.append(PostgresSchema.lockKey)
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.lock, binds: lock), logger: logger)
            let others = try await Self.collect(connection.query(PostgresQuery(unsafeSQL: PostgresSchema.otherTables), logger: logger)) {
                try $0.decode(String.self)
            }
            let hadHistory = try await Self.collect(connection.query(
                PostgresQuery(unsafeSQL: "SELECT to_regclass('schema_migrations') IS NOT NULL"), logger: logger
            )) { try $0.decode(Bool.self) }.first ?? false
            if !hadHistory && !others.isEmpty {
                throw SessionStoreError(.unreadable, "\(subject) cannot be used: its database has the tables \(others.prefix(10).joined(separator: ", ")) and no Switchboard schema history (use an empty database).")
            }
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.createHistory), logger: logger)
            let applied = Set(try await Self.collect(connection.query(PostgresQuery(unsafeSQL: PostgresSchema.applied), logger: logger)) {
                try $0.decode(Int.self)
            })
            let known = Set(PostgresSchema.migrations.map(\.version))
            let unknown = applied.subtracting(known).sorted()
            if !unknown.isEmpty {
                throw SessionStoreError(.unreadable, "\(subject) cannot be used: it was migrated by a newer version of Switchboard (schema versions \(unknown.map(String.init).joined(separator: ", ")) are unknown to this build, which knows up to \(PostgresSchema.currentVersion)).")
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                var binds = PostgresBindings()
                binds.append(migration.version)
                binds.append(migration.name)
                try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.record, binds: binds), logger: logger)
            }
        }
    }

    /// The schema versions recorded in `schema_migrations`, oldest first.
    public func appliedSchemaVersions() async throws -> [Int] {
        try await rows("read the schema history", PostgresSchema.applied, PostgresBindings()) { try $0.decode(Int.self) }
    }
}
