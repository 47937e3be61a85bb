import PostgresNIO
import SwitchboardCore

/// Adding rows that came from another store (`switchboard store migrate`), each kept as it
/// was and never twice: every call reports how many rows were new, so a second copy of the
/// same data adds, and reports, nothing.
extension PostgresSessionStore {
    /// Adds the frames whose (session, seq) is not logged yet, in one statement; returns how
    /// many were new.
    public func copyFrames(_ frames: [LoggedFrame]) async throws -> Int {
        guard !frames.isEmpty else { return 0 }
        var binds = PostgresBindings()
        binds.append(frames.map(\.sessionId))
        binds.append(frames.map { Int64($0.seq) })
        binds.append(frames.map(\.kind.rawValue))
        binds.append(frames.map(\.json))
        binds.append(frames.map { Int64($0.byteCount) })
        binds.append(frames.map(\.createdAt))
        return try await rows("copy \(frames.count) frame(s) to the event log", LogSQL.insert + " RETURNING seq", binds) { _ in true }.count
    }

    /// Adds a queued message unless its queue id is there; true when it was new. Messages
    /// copied in their queue's order keep that order.
    public func copyQueuedMessage(_ message: QueuedMessage) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(message.queueId)
        binds.append(message.sessionId)
        binds.append(message.content)
        binds.append(message.clientMessageId)
        binds.append(message.queuedAt)
        return try await !rows("copy queued message '\(message.queueId)'", QueueSQL.insert + " RETURNING queue_id", binds) { _ in true }.isEmpty
    }

    /// Adds a client message record unless the session has one for its id; true when it was new.
    public func copyClientMessage(_ record: ClientMessageRecord) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(record.sessionId)
        binds.append(record.clientMessageId)
        binds.append(record.seq.map(Int64.init))
        binds.append(record.queueId)
        return try await !rows("copy client message '\(record.clientMessageId)'", CopySQL.clientMessage, binds) { _ in true }.isEmpty
    }

    /// Adds an audit-log row unless its id is there; true when it was new.
    public func copyDecision(_ record: DecisionRecord) async throws -> Bool {
        try await !rows("copy decision request '\(record.id)'", DecisionSQL.insert, Self.bindings(record)) { _ in true }.isEmpty
    }

    enum CopySQL {
        static let clientMessage = """
            INSERT INTO client_messages (session_id, client_message_id, seq, queue_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (session_id, client_message_id) DO NOTHING RETURNING client_message_id
            """
    }
}
