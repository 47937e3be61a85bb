import GRDB
import SwitchboardCore

/// Reading everything a store holds, for copying it to another store (`switchboard store
/// migrate`): the protocol lists sessions, frames and queues, but not every client message
/// record or the whole audit log.
extension SQLiteSessionStore {
    /// Every client message record, by session and client message id.
    package func allClientMessages() async throws -> [ClientMessageRecord] {
        try await read("read the client message records") { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT session_id, client_message_id, seq, queue_id FROM client_messages ORDER BY session_id, client_message_id")
            var records: [ClientMessageRecord] = []
            while let row = try rows.next() {
                records.append(ClientMessageRecord(
                    sessionId: try row.decode(atIndex: 0), clientMessageId: try row.decode(atIndex: 1),
                    seq: try row.decode(atIndex: 2), queueId: try row.decode(atIndex: 3)
                ))
            }
            return records
        }
    }

    /// The whole audit log, oldest first.
    package func allDecisions() async throws -> [DecisionRecord] {
        try await read("read the audit log") { db in
            try Self.fetchDecisions(db, "SELECT \(DecisionSQL.columns) FROM decisions ORDER BY requested_at, id", [])
        }
    }
}
