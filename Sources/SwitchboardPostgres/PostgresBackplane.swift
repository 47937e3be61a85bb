import Logging
import PostgresNIO
import SwitchboardAdapterAPI
import SwitchboardCore

/// The ``ClusterBackplane`` on the PostgreSQL store's database: node rows, leases and
/// commands are tables (schema version 2), and the signals are `NOTIFY`s on one channel,
/// ``channel``, which each node `LISTEN`s to on a connection of its own.
///
/// Signals (payloads): `f <seq> <session>` — the session's log has frames up to `seq` (sent by
/// the log's append itself, see ``PostgresSessionStore/Options/notifyFrames``);
/// `c <node>` — commands wait for the node; `r <id> <node>` — the node's command `id` has
/// its answer. Every time that decides a lease is the database's `clock_timestamp()`.
public struct PostgresBackplane: ClusterBackplane {
    /// The channel every signal goes on.
    public static let channel = "switchboard_cluster"
    /// How long a command row is kept at most (a node that took it and died never answers).
    static let commandRetentionMs: Int64 = 3_600_000

    let store: PostgresSessionStore

    /// The backplane on `store`'s database (open it with `notifyFrames`, or mirrors only
    /// catch up when they listen again).
    public init(store: PostgresSessionStore) {
        self.store = store
    }

    enum SQL {
        static let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        static let join = """
            INSERT INTO cluster_nodes (node_id, advertise, started_at, heartbeat_at, live_sessions) VALUES ($1, $2, \(now), \(now), 0)
            ON CONFLICT (node_id) DO UPDATE SET advertise = excluded.advertise, started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at, live_sessions = 0
            """
        static let leaveLeases = "DELETE FROM session_leases WHERE owner = $1"
        static let leaveNode = "DELETE FROM cluster_nodes WHERE node_id = $1"
        static let renew = """
            WITH beat AS (
                UPDATE cluster_nodes SET heartbeat_at = \(now), live_sessions = $3 WHERE node_id = $1 RETURNING node_id
            )
            UPDATE session_leases SET expires_at = \(now) + $2 WHERE owner = $1 RETURNING session_id
            """
        static let forgetCommands = "DELETE FROM cluster_commands WHERE created_at < \(now) - $1"
        static let claim = """
            INSERT INTO session_leases AS l (session_id, owner, expires_at, epoch) VALUES ($1, $2, \(now) + $3, 1)
            ON CONFLICT (session_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
                epoch = CASE WHEN l.owner = excluded.owner THEN l.epoch ELSE l.epoch + 1 END
            WHERE l.owner = excluded.owner OR l.expires_at < \(now)
            RETURNING session_id, owner, expires_at, epoch, false
            """
        static let leaseColumns = "session_id, owner, expires_at, epoch, expires_at < \(now)"
        static let lease = "SELECT \(leaseColumns) FROM session_leases WHERE session_id = $1"
        static let leases = "SELECT \(leaseColumns) FROM session_leases ORDER BY session_id"
        static let release = "DELETE FROM session_leases WHERE session_id = $1 AND owner = $2"
        static let nodes = """
            SELECT node_id, advertise, started_at, heartbeat_at, \(now) - heartbeat_at, live_sessions FROM cluster_nodes ORDER BY node_id
            """
        static let post = """
            WITH posted AS (
                INSERT INTO cluster_commands (session_id, from_node, to_node, body, created_at) VALUES ($1, $2, $3, $4, \(now)) RETURNING id
            ), woken AS (
                SELECT pg_notify('\(channel)', 'c ' || $3::text) FROM posted
            )
            SELECT posted.id FROM posted, woken
            """
        static let take = """
            UPDATE cluster_commands SET state = 'taken'
            WHERE id IN (SELECT id FROM cluster_commands WHERE to_node = $1 AND state = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED)
            RETURNING id, session_id, from_node, to_node, body
            """
        static let answer = """
            WITH answered AS (
                UPDATE cluster_commands SET state = 'answered', answer = $2 WHERE id = $1 RETURNING id, from_node
            ), woken AS (
                SELECT pg_notify('\(channel)', 'r ' || answered.id::text || ' ' || answered.from_node) FROM answered
            )
            SELECT answered.id FROM answered, woken
            """
        static let answerOf = "DELETE FROM cluster_commands WHERE id = $1 AND state = 'answered' RETURNING answer"
        static let withdraw = "DELETE FROM cluster_commands WHERE id = $1 AND state = 'pending' RETURNING id"
        static let orphanedQueues = """
            SELECT DISTINCT q.session_id FROM queued_messages q JOIN session_leases l ON l.session_id = q.session_id
            WHERE l.expires_at < \(now) ORDER BY q.session_id
            """
    }

    public func join(nodeId: String, advertise: String?) async throws {
        var binds = PostgresBindings()
        binds.append(nodeId)
        binds.append(advertise)
        _ = try await store.rows("join the cluster as node '\(nodeId)'", SQL.join, binds) { _ in true }
    }

    public func leave(nodeId: String) async throws {
        try await store.transaction("leave the cluster as node '\(nodeId)'") { connection, logger in
            for sql in [SQL.leaveLeases, SQL.leaveNode] {
                var binds = PostgresBindings()
                binds.append(nodeId)
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            }
        }
    }

    public func renew(nodeId: String, liveSessions: Int, leaseSeconds: Int) async throws -> Set<String> {
        var binds = PostgresBindings()
        binds.append(nodeId)
        binds.append(Int64(leaseSeconds) * 1000)
        binds.append(Int32(clamping: liveSessions))
        let held = try await store.rows("renew the leases of node '\(nodeId)'", SQL.renew, binds) { try $0.decode(String.self) }
        var forget = PostgresBindings()
        forget.append(Self.commandRetentionMs)
        _ = try await store.rows("forget old cluster commands", SQL.forgetCommands, forget) { _ in true }
        return Set(held)
    }

    public func claim(_ sessionId: String, nodeId: String, leaseSeconds: Int) async throws -> LeaseClaim {
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(nodeId)
        binds.append(Int64(leaseSeconds) * 1000)
        if let granted = try await store.rows("claim the lease of session '\(sessionId)'", SQL.claim, binds, Self.lease).first {
            return .granted(granted)
        }
        guard let held = try await lease(sessionId) else {
            // Given up between the two statements: try once more.
            if let granted = try await store.rows("claim the lease of session '\(sessionId)'", SQL.claim, binds, Self.lease).first {
                return .granted(granted)
            }
            throw SessionStoreError(.writeFailed, "The lease of session '\(sessionId)' changed hands twice while it was claimed; try again.")
        }
        return held.owner == nodeId ? .granted(held) : .held(held)
    }

    public func release(_ sessionId: String, nodeId: String) async throws {
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(nodeId)
        _ = try await store.rows("give up the lease of session '\(sessionId)'", SQL.release, binds) { _ in true }
    }

    public func lease(_ sessionId: String) async throws -> SessionLease? {
        var binds = PostgresBindings()
        binds.append(sessionId)
        return try await store.rows("read the lease of session '\(sessionId)'", SQL.lease, binds, Self.lease).first
    }

    public func leases() async throws -> [SessionLease] {
        try await store.rows("read the leases", SQL.leases, PostgresBindings(), Self.lease)
    }

    public func nodes() async throws -> [ClusterNodeRecord] {
        try await store.rows("read the cluster's nodes", SQL.nodes, PostgresBindings()) { row in
            let (id, advertise, started, beat, age, live) = try row.decode((String, String?, Int64, Int64, Int64, Int32).self)
            return ClusterNodeRecord(nodeId: id, advertise: advertise, startedAt: started, heartbeatAt: beat, heartbeatAge: age, liveSessions: Int(live))
        }
    }

    public func post(sessionId: String, from: String, to: String, body: JSONValue) async throws -> Int64 {
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(from)
        binds.append(to)
        binds.append(body.jsonText)
        guard let id = try await store.rows("send a request to node '\(to)'", SQL.post, binds, { try $0.decode(Int64.self) }).first else {
            throw SessionStoreError(.writeFailed, "The request to node '\(to)' was not stored.")
        }
        return id
    }

    public func take(for nodeId: String) async throws -> [ClusterCommand] {
        var binds = PostgresBindings()
        binds.append(nodeId)
        let taken = try await store.rows("take the requests for node '\(nodeId)'", SQL.take, binds) { row in
            let (id, session, from, to, body) = try row.decode((Int64, String, String, String, String).self)
            return ClusterCommand(id: id, sessionId: session, from: from, to: to, body: (try? JSONValue(parsing: body)) ?? .null)
        }
        return taken.sorted { $0.id < $1.id }
    }

    public func answer(_ command: ClusterCommand, with result: JSONValue) async throws {
        var binds = PostgresBindings()
        binds.append(command.id)
        binds.append(result.jsonText)
        _ = try await store.rows("answer request \(command.id) of node '\(command.from)'", SQL.answer, binds) { _ in true }
    }

    public func answerOf(_ id: Int64) async throws -> JSONValue? {
        var binds = PostgresBindings()
        binds.append(id)
        guard let text = try await store.rows("read the answer to request \(id)", SQL.answerOf, binds, { try $0.decode(String?.self) }).first,
              let text else { return nil }
        return (try? JSONValue(parsing: text)) ?? .null
    }

    public func withdraw(_ id: Int64) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(id)
        return try await !store.rows("withdraw request \(id)", SQL.withdraw, binds) { _ in true }.isEmpty
    }

    public func orphanedQueues() async throws -> [String] {
        try await store.rows("find queues of sessions whose node is gone", SQL.orphanedQueues, PostgresBindings()) { try $0.decode(String.self) }
    }

    public func listen(_ ready: @Sendable () async -> Void, _ deliver: @Sendable (ClusterSignal) async -> Void) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresSessionStore.connect(store.url, timeout: store.options.connectTimeout, logger: store.logger)
        } catch {
            throw SessionStoreError(.unavailable, "PostgreSQL at \(store.url.endpoint) cannot be reached to listen for cluster signals: \(PostgresSessionStore.reason(error)).")
        }
        // The notification sequence does not end on cancellation; closing the connection ends it.
        let outcome: Result<Void, any Error>
        do {
            try await withTaskCancellationHandler {
                try await connection.listen(on: Self.channel) { notifications in
                    await ready()
                    for try await notification in notifications {
                        if let signal = Self.signal(notification.payload) { await deliver(signal) }
                    }
                }
            } onCancel: {
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        // Closed (and waited for) before it goes.
        try? await connection.close()
        if Task.isCancelled { return }
        try outcome.get()
    }

    /// Reads a payload; `nil` for one this build does not know.
    static func signal(_ payload: String) -> ClusterSignal? {
        let parts = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        switch (parts.first, parts.count) {
        case ("f", 3):
            guard let seq = Int(parts[1]) else { return nil }
            return .frames(sessionId: String(parts[2]), seq: seq)
        case ("c", 2):
            return .commands(to: String(parts[1]))
        case ("r", 3):
            guard let id = Int64(parts[1]) else { return nil }
            return .answered(to: String(parts[2]), id: id)
        default:
            return nil
        }
    }

    @Sendable static func lease(_ row: PostgresRow) throws -> SessionLease {
        let (session, owner, expires, epoch, expired) = try row.decode((String, String, Int64, Int64, Bool).self)
        return SessionLease(sessionId: session, owner: owner, expiresAt: expires, epoch: epoch, expired: expired)
    }
}
