import GRDB
import SwitchboardCore

/// The event log (its own database, `logPath`), the message queue and the client message ids
/// (the store's main database).
extension SQLiteSessionStore {
    // MARK: - The event log

    /// Appends frames in one transaction; a (session, seq) logged already is left as it was.
    public func appendFrames(_ frames: [LoggedFrame]) async throws {
        guard !frames.isEmpty else { return }
        try await writeLog("append \(frames.count) frame(s) to the event log") { db in
            let statement = try db.cachedStatement(sql: LogSQL.insert)
            for frame in frames {
                try statement.execute(arguments: [frame.sessionId, frame.seq, frame.kind.rawValue, frame.json, frame.byteCount, frame.createdAt])
            }
        }
    }

    /// Up to `limit` frames after `seq`, in order. A row whose kind this build does not know is
    /// returned as a notice-less message frame the caller can skip.
    public func frames(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame] {
        let limit = min(max(limit, 0), 100_000)
        guard limit > 0 else { return [] }
        return try await readLog("read the event log of session '\(sessionId)'") { db in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: LogSQL.after), arguments: [sessionId, seq, limit])
            var frames: [LoggedFrame] = []
            while let row = try rows.next() {
                let kindName: String = try row.decode(atIndex: 1)
                frames.append(LoggedFrame(
                    sessionId: sessionId, seq: try row.decode(atIndex: 0), kind: LoggedFrame.Kind(rawValue: kindName) ?? .message,
                    json: try row.decode(atIndex: 2), createdAt: try row.decode(atIndex: 3)
                ))
            }
            return frames
        }
    }

    /// The oldest and newest `seq` kept for a session.
    public func frameBounds(_ sessionId: String) async throws -> ClosedRange<Int>? {
        try await readLog("read the event log's bounds for session '\(sessionId)'") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: LogSQL.bounds), arguments: [sessionId, sessionId]),
                  let first: Int = try row.decode(atIndex: 0), let last: Int = try row.decode(atIndex: 1), first <= last
            else { return nil }
            return first...last
        }
    }

    /// Removes the session's oldest frames beyond the retention (the newest always stays).
    public func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) async throws -> Int {
        try await writeLog("prune the event log of session '\(sessionId)'") { db in
            var removed = 0
            // By count: everything before the newest `maxFrames`.
            if let cutoff = try Int.fetchOne(db.cachedStatement(sql: LogSQL.countCutoff), arguments: [sessionId, max(1, retention.maxFramesPerSession) - 1]) {
                try db.cachedStatement(sql: LogSQL.deleteBefore).execute(arguments: [sessionId, cutoff])
                removed += db.changesCount
            }
            // By bytes: everything older than the newest frames that fit.
            if let cutoff = try Int.fetchOne(db.cachedStatement(sql: LogSQL.bytesCutoff), arguments: [sessionId, retention.maxBytesPerSession]) {
                try db.cachedStatement(sql: LogSQL.deleteUpTo).execute(arguments: [sessionId, cutoff])
                removed += db.changesCount
            }
            // By age, keeping the newest frame.
            if let days = retention.maxAgeDays {
                let (ms, overflow) = Int64(days).multipliedReportingOverflow(by: 86_400_000)
                let before = overflow ? Int64.min : now.subtractingReportingOverflow(ms).partialValue
                try db.cachedStatement(sql: LogSQL.deleteOlder).execute(arguments: [sessionId, before, sessionId])
                removed += db.changesCount
            }
            return removed
        }
    }

    /// The sessions that keep frames made before `time`.
    public func sessionsWithFrames(before time: Int64) async throws -> [String] {
        try await readLog("find old frames in the event log") { db in
            try String.fetchAll(db.cachedStatement(sql: LogSQL.sessionsBefore), arguments: [time])
        }
    }

    enum LogSQL {
        static let insert = "INSERT INTO frames (session_id, seq, kind, json, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, seq) DO NOTHING"
        static let after = "SELECT seq, kind, json, created_at FROM frames WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        static let bounds = "SELECT (SELECT seq FROM frames WHERE session_id = ? ORDER BY seq LIMIT 1), (SELECT seq FROM frames WHERE session_id = ? ORDER BY seq DESC LIMIT 1)"
        /// The seq of the `n+1`th newest frame (the first to keep is the `n`th): frames before it go.
        static let countCutoff = "SELECT seq FROM frames WHERE session_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?"
        static let deleteBefore = "DELETE FROM frames WHERE session_id = ? AND seq < ?"
        /// The newest seq whose frame, with all newer ones, is over the byte limit: it and older go.
        static let bytesCutoff = """
            SELECT seq FROM (SELECT seq, SUM(bytes) OVER (ORDER BY seq DESC) AS total FROM frames WHERE session_id = ?)
            WHERE total > ? ORDER BY seq DESC LIMIT 1 OFFSET 0
            """
        static let deleteUpTo = """
            DELETE FROM frames WHERE session_id = ?1 AND seq <= ?2
            AND seq < (SELECT seq FROM frames WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1)
            """
        static let deleteOlder = """
            DELETE FROM frames WHERE session_id = ? AND created_at < ?
            AND seq < (SELECT seq FROM frames WHERE session_id = ? ORDER BY seq DESC LIMIT 1)
            """
        static let sessionsBefore = "SELECT DISTINCT session_id FROM frames WHERE created_at < ? ORDER BY session_id"
    }

    // MARK: - The message queue

    public func enqueueMessage(_ message: QueuedMessage) async throws {
        try await write("queue a message in session '\(message.sessionId)'") { db in
            let position = try Int.fetchOne(db, sql: "SELECT coalesce(max(position), 0) + 1 FROM queued_messages WHERE session_id = ?", arguments: [message.sessionId]) ?? 1
            try db.execute(sql: """
                INSERT INTO queued_messages (queue_id, session_id, content, client_message_id, queued_at, position) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (queue_id) DO NOTHING
                """, arguments: [message.queueId, message.sessionId, message.content, message.clientMessageId, message.queuedAt, position])
        }
    }

    public func removeQueuedMessage(_ sessionId: String, queueId: String) async throws -> Bool {
        try await write("take message '\(queueId)' out of the queue of session '\(sessionId)'") { db in
            try db.execute(sql: "DELETE FROM queued_messages WHERE session_id = ? AND queue_id = ?", arguments: [sessionId, queueId])
            return db.changesCount > 0
        }
    }

    public func queuedMessages(_ sessionId: String?) async throws -> [QueuedMessage] {
        try await read("read the message queue") { db in
            let columns = "queue_id, session_id, content, client_message_id, queued_at"
            let rows: RowCursor = if let sessionId {
                try Row.fetchCursor(db, sql: "SELECT \(columns) FROM queued_messages WHERE session_id = ? ORDER BY position", arguments: [sessionId])
            } else {
                try Row.fetchCursor(db, sql: "SELECT \(columns) FROM queued_messages ORDER BY session_id, position")
            }
            var messages: [QueuedMessage] = []
            while let row = try rows.next() {
                messages.append(QueuedMessage(
                    queueId: try row.decode(atIndex: 0), sessionId: try row.decode(atIndex: 1), content: try row.decode(atIndex: 2),
                    clientMessageId: try row.decode(atIndex: 3), queuedAt: try row.decode(atIndex: 4)
                ))
            }
            return messages
        }
    }

    // MARK: - Client message ids

    public func recordClientMessage(_ record: ClientMessageRecord) async throws {
        try await write("record client message '\(record.clientMessageId)' of session '\(record.sessionId)'") { db in
            try db.execute(sql: """
                INSERT INTO client_messages (session_id, client_message_id, seq, queue_id) VALUES (?, ?, ?, ?)
                ON CONFLICT (session_id, client_message_id) DO UPDATE SET seq = coalesce(excluded.seq, seq), queue_id = coalesce(excluded.queue_id, queue_id)
                """, arguments: [record.sessionId, record.clientMessageId, record.seq, record.queueId])
        }
    }

    public func clientMessage(_ sessionId: String, _ clientMessageId: String) async throws -> ClientMessageRecord? {
        try await read("read client message '\(clientMessageId)'") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, queue_id FROM client_messages WHERE session_id = ? AND client_message_id = ?",
                                             arguments: [sessionId, clientMessageId]) else { return nil }
            return ClientMessageRecord(sessionId: sessionId, clientMessageId: clientMessageId, seq: try row.decode(atIndex: 0), queueId: try row.decode(atIndex: 1))
        }
    }
}
