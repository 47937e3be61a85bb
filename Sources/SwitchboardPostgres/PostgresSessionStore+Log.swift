import PostgresNIO
import SwitchboardCore

/// The event log, the message queue and the client message ids.
extension PostgresSessionStore {
    // MARK: - The event log

    /// Appends frames in one statement (so all or none are kept); a (session, seq) logged
    /// already is left as it was.
    public func appendFrames(_ frames: [LoggedFrame]) async throws {
        guard !frames.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(frames.map(\.sessionId))
        binds.append(frames.map { Int64($0.seq) })
        binds.append(frames.map(\.kind.rawValue))
        binds.append(frames.map(\.json))
        binds.append(frames.map { Int64($0.byteCount) })
        binds.append(frames.map(\.createdAt))
        _ = try await rows("append \(frames.count) frame(s) to the event log", options.notifyFrames ? LogSQL.insertNotifying : LogSQL.insert, binds) { _ in true }
    }

    /// Up to `limit` frames after `seq`, in order. A row whose kind this build does not know
    /// reads as a message frame.
    public func frames(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame] {
        let limit = min(max(limit, 0), 100_000)
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(Int64(seq))
        binds.append(Int64(limit))
        return try await rows("read the event log of session '\(sessionId)'", LogSQL.after, binds) { row in
            let (seq, kind, json, createdAt) = try row.decode((Int64, String, String, Int64).self)
            return LoggedFrame(sessionId: sessionId, seq: Int(seq), kind: LoggedFrame.Kind(rawValue: kind) ?? .message, json: json, createdAt: createdAt)
        }
    }

    /// The oldest and newest `seq` kept for a session.
    public func frameBounds(_ sessionId: String) async throws -> ClosedRange<Int>? {
        var binds = PostgresBindings()
        binds.append(sessionId)
        let bounds = try await rows("read the event log's bounds for session '\(sessionId)'", LogSQL.bounds, binds) { row in
            try row.decode((Int64?, Int64?).self)
        }
        guard let (first, last) = bounds.first, let first, let last, first <= last else { return nil }
        return Int(first)...Int(last)
    }

    /// Removes the session's oldest frames beyond the retention (the newest always stays), in
    /// one transaction.
    public func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) async throws -> Int {
        try await transaction("prune the event log of session '\(sessionId)'") { connection, logger in
            func count(_ sql: String, _ binds: PostgresBindings) async throws -> Int {
                try await Self.collect(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)) { _ in true }.count
            }
            var removed = 0
            var byCount = PostgresBindings()
            byCount.append(sessionId)
            byCount.append(Int64(max(1, retention.maxFramesPerSession) - 1))
            removed += try await count(LogSQL.pruneByCount, byCount)
            var byBytes = PostgresBindings()
            byBytes.append(sessionId)
            byBytes.append(Int64(retention.maxBytesPerSession))
            removed += try await count(LogSQL.pruneByBytes, byBytes)
            if let days = retention.maxAgeDays {
                let (ms, overflow) = Int64(days).multipliedReportingOverflow(by: 86_400_000)
                let before = overflow ? Int64.min : now.subtractingReportingOverflow(ms).partialValue
                var byAge = PostgresBindings()
                byAge.append(sessionId)
                byAge.append(before)
                removed += try await count(LogSQL.pruneByAge, byAge)
            }
            return removed
        }
    }

    /// The sessions that keep frames made before `time`.
    public func sessionsWithFrames(before time: Int64) async throws -> [String] {
        var binds = PostgresBindings()
        binds.append(time)
        return try await rows("find old frames in the event log", LogSQL.sessionsBefore, binds) { try $0.decode(String.self) }
    }

    /// The event log's statements.
    enum LogSQL {
        static let insert = """
            INSERT INTO frames (session_id, seq, kind, json, bytes, created_at)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
            ON CONFLICT (session_id, seq) DO NOTHING
            """
        /// ``insert``, and one signal per session with its newest `seq`: `f <seq> <session>`.
        static let insertNotifying = """
            WITH added AS (
                INSERT INTO frames (session_id, seq, kind, json, bytes, created_at)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
                ON CONFLICT (session_id, seq) DO NOTHING
                RETURNING session_id, seq
            )
            SELECT pg_notify('\(PostgresBackplane.channel)', 'f ' || max(seq)::text || ' ' || session_id) FROM added GROUP BY session_id
            """
        static let after = "SELECT seq, kind, json, created_at FROM frames WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        static let bounds = "SELECT min(seq), max(seq) FROM frames WHERE session_id = $1"
        /// Everything before the newest `n` frames (the `$2+1`th newest is the last to go).
        static let pruneByCount = """
            DELETE FROM frames WHERE session_id = $1
            AND seq < (SELECT seq FROM frames WHERE session_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)
            RETURNING seq
            """
        /// The newest frame whose total with all newer ones is over the byte limit, and all
        /// older ones, but never the newest frame.
        static let pruneByBytes = """
            DELETE FROM frames WHERE session_id = $1
            AND seq <= (SELECT seq FROM (SELECT seq, sum(bytes) OVER (ORDER BY seq DESC) AS total FROM frames WHERE session_id = $1) AS t
                        WHERE total > $2 ORDER BY seq DESC LIMIT 1)
            AND seq < (SELECT max(seq) FROM frames WHERE session_id = $1)
            RETURNING seq
            """
        static let pruneByAge = """
            DELETE FROM frames WHERE session_id = $1 AND created_at < $2
            AND seq < (SELECT max(seq) FROM frames WHERE session_id = $1)
            RETURNING seq
            """
        static let sessionsBefore = "SELECT DISTINCT session_id FROM frames WHERE created_at < $1 ORDER BY session_id"
    }

    // MARK: - The message queue

    /// Adds a message after the others of its session (a queue id that exists is left as it was).
    public func enqueueMessage(_ message: QueuedMessage) async throws {
        var binds = PostgresBindings()
        binds.append(message.queueId)
        binds.append(message.sessionId)
        binds.append(message.content)
        binds.append(message.clientMessageId)
        binds.append(message.queuedAt)
        _ = try await rows("queue a message in session '\(message.sessionId)'", QueueSQL.insert, binds) { _ in true }
    }

    /// Takes a message out of its session's queue; false when it is not there.
    public func removeQueuedMessage(_ sessionId: String, queueId: String) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(queueId)
        return try await !rows("take message '\(queueId)' out of the queue of session '\(sessionId)'", QueueSQL.remove, binds) { _ in true }.isEmpty
    }

    /// The queued messages of one session (or of all), oldest first.
    public func queuedMessages(_ sessionId: String?) async throws -> [QueuedMessage] {
        var binds = PostgresBindings()
        let sql: String
        if let sessionId {
            binds.append(sessionId)
            sql = QueueSQL.ofSession
        } else {
            sql = QueueSQL.all
        }
        return try await rows("read the message queue", sql, binds) { row in
            let (queueId, sessionId, content, clientMessageId, queuedAt) = try row.decode((String, String, String, String?, Int64).self)
            return QueuedMessage(queueId: queueId, sessionId: sessionId, content: content, clientMessageId: clientMessageId, queuedAt: queuedAt)
        }
    }

    enum QueueSQL {
        static let insert = """
            INSERT INTO queued_messages (queue_id, session_id, content, client_message_id, queued_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (queue_id) DO NOTHING
            """
        static let remove = "DELETE FROM queued_messages WHERE session_id = $1 AND queue_id = $2 RETURNING queue_id"
        static let columns = "queue_id, session_id, content, client_message_id, queued_at"
        static let ofSession = "SELECT \(columns) FROM queued_messages WHERE session_id = $1 ORDER BY position"
        static let all = "SELECT \(columns) FROM queued_messages ORDER BY session_id, position"
    }

    // MARK: - Client message ids

    /// Records what became of a client's message, or updates the record (a queued message
    /// that was sent keeps its queue id and gains its seq).
    public func recordClientMessage(_ record: ClientMessageRecord) async throws {
        var binds = PostgresBindings()
        binds.append(record.sessionId)
        binds.append(record.clientMessageId)
        binds.append(record.seq.map(Int64.init))
        binds.append(record.queueId)
        _ = try await rows("record client message '\(record.clientMessageId)' of session '\(record.sessionId)'", ClientSQL.upsert, binds) { _ in true }
    }

    /// What became of the message with `clientMessageId` in a session, or `nil`.
    public func clientMessage(_ sessionId: String, _ clientMessageId: String) async throws -> ClientMessageRecord? {
        var binds = PostgresBindings()
        binds.append(sessionId)
        binds.append(clientMessageId)
        return try await rows("read client message '\(clientMessageId)'", ClientSQL.get, binds) { row in
            let (seq, queueId) = try row.decode((Int64?, String?).self)
            return ClientMessageRecord(sessionId: sessionId, clientMessageId: clientMessageId, seq: seq.map { Int($0) }, queueId: queueId)
        }.first
    }

    enum ClientSQL {
        static let upsert = """
            INSERT INTO client_messages (session_id, client_message_id, seq, queue_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (session_id, client_message_id) DO UPDATE
            SET seq = coalesce(excluded.seq, client_messages.seq), queue_id = coalesce(excluded.queue_id, client_messages.queue_id)
            """
        static let get = "SELECT seq, queue_id FROM client_messages WHERE session_id = $1 AND client_message_id = $2"
    }
}
