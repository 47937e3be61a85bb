import GRDB
import SwitchboardAdapterAPI
import SwitchboardCore

/// The audit log of decision requests: the `decisions` table (migration `v2-decisions`).
/// Options and answers are stored as JSON text; every query uses an index.
extension SQLiteSessionStore {
    /// Adds a request; fails with ``SessionStoreError/Code/duplicateID`` when its id exists.
    public func recordDecision(_ record: DecisionRecord) async throws {
        let inserted = try await write("record decision request '\(record.id)'") { db in
            try db.cachedStatement(sql: DecisionSQL.insert).execute(arguments: Self.arguments(record))
            return db.changesCount > 0
        }
        guard inserted else {
            throw SessionStoreError(.duplicateID, "Decision request '\(record.id)' already exists in session store '\(path)'.")
        }
    }

    /// Closes a pending request with `record`'s state and decision; false when it is not pending.
    public func closeDecision(_ record: DecisionRecord) async throws -> Bool {
        try await write("close decision request '\(record.id)'") { db in
            try db.cachedStatement(sql: DecisionSQL.close).execute(arguments: [
                record.state.rawValue, record.decision, record.decidedBy, record.decider, record.message,
                Self.answersText(record.answers), record.resolvedAt, record.id,
            ])
            return db.changesCount > 0
        }
    }

    /// The request with this id, or `nil`.
    public func decision(_ id: String) async throws -> DecisionRecord? {
        try await read("read decision request '\(id)'") { db in
            try Self.fetchDecisions(db, DecisionSQL.get, [id]).first
        }
    }

    /// Requests matching `query`, newest first.
    public func decisions(_ query: DecisionQuery) async throws -> [DecisionRecord] {
        let limit = min(max(query.limit, 0), DecisionQuery.maximumLimit)
        return try await read("list decision requests") { db in
            switch (query.sessionId, query.state) {
            case (let session?, let state?):
                try Self.fetchDecisions(db, DecisionSQL.bySessionAndState, [session, state.rawValue, limit])
            case (let session?, nil):
                try Self.fetchDecisions(db, DecisionSQL.bySession, [session, limit])
            case (nil, let state?):
                try Self.fetchDecisions(db, DecisionSQL.byState, [state.rawValue, limit])
            case (nil, nil):
                try Self.fetchDecisions(db, DecisionSQL.all, [limit])
            }
        }
    }

    /// Expires every pending request, by `restart`.
    public func expirePendingDecisions(at time: Int64) async throws -> Int {
        try await write("expire pending decision requests") { db in
            try db.cachedStatement(sql: DecisionSQL.expire).execute(arguments: [
                DecisionResolution.cancelled, DecisionSource.restart.by, time,
            ])
            return db.changesCount
        }
    }

    // MARK: - Rows

    enum DecisionSQL {
        static let columns = """
            id, session_id, agent_type, kind, tool_name, tool_id, summary, input, options, state, decision, \
            decided_by, decider, message, answers, requested_at, resolved_at
            """
        static let insert =
            "INSERT INTO decisions (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
        static let close = """
            UPDATE decisions SET state = ?, decision = ?, decided_by = ?, decider = ?, message = ?, answers = ?, resolved_at = ?
            WHERE id = ? AND state = 'pending'
            """
        static let get = "SELECT \(columns) FROM decisions WHERE id = ?"
        static let bySession = "SELECT \(columns) FROM decisions WHERE session_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?"
        static let bySessionAndState =
            "SELECT \(columns) FROM decisions WHERE session_id = ? AND state = ? ORDER BY requested_at DESC, id DESC LIMIT ?"
        static let byState = "SELECT \(columns) FROM decisions WHERE state = ? ORDER BY requested_at DESC, id DESC LIMIT ?"
        static let all = "SELECT \(columns) FROM decisions ORDER BY requested_at DESC, id DESC LIMIT ?"
        static let expire = """
            UPDATE decisions SET state = 'expired', decision = ?, decided_by = ?, resolved_at = ? WHERE state = 'pending'
            """
    }

    static func arguments(_ r: DecisionRecord) -> StatementArguments {
        [
            r.id, r.sessionId, r.agentType, r.kind.rawValue, r.toolName, r.toolId, r.summary, r.input,
            JSONValue.array(r.options.map(JSONValue.string)).jsonText, r.state.rawValue, r.decision,
            r.decidedBy, r.decider, r.message, answersText(r.answers), r.requestedAt, r.resolvedAt,
        ]
    }

    static func answersText(_ answers: [String: String]) -> String? {
        answers.isEmpty ? nil : JSONValue.object(answers.mapValues(JSONValue.string)).jsonText
    }

    /// Decodes rows; a row whose JSON columns do not parse keeps what can be read (no
    /// options, no answers) rather than failing the whole query.
    static func fetchDecisions(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [DecisionRecord] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var records: [DecisionRecord] = []
        while let row = try rows.next() {
            let optionsText: String = try row.decode(atIndex: 8)
            let answersText: String? = try row.decode(atIndex: 14)
            let options = ((try? JSONValue(parsing: optionsText))?.arrayValue ?? []).compactMap(\.stringValue)
            var answers: [String: String] = [:]
            if let answersText, let map = (try? JSONValue(parsing: answersText))?.objectValue {
                for (key, value) in map { if let text = value.stringValue { answers[key] = text } }
            }
            let kindName: String = try row.decode(atIndex: 3)
            let stateName: String = try row.decode(atIndex: 9)
            records.append(DecisionRecord(
                id: try row.decode(atIndex: 0), sessionId: try row.decode(atIndex: 1), agentType: try row.decode(atIndex: 2),
                kind: DecisionRequest.Kind(rawValue: kindName) ?? .permission, toolName: try row.decode(atIndex: 4),
                toolId: try row.decode(atIndex: 5), summary: try row.decode(atIndex: 6), input: try row.decode(atIndex: 7),
                options: options, state: DecisionRecord.State(rawValue: stateName) ?? .expired,
                decision: try row.decode(atIndex: 10), decidedBy: try row.decode(atIndex: 11), decider: try row.decode(atIndex: 12),
                message: try row.decode(atIndex: 13), answers: answers, requestedAt: try row.decode(atIndex: 15),
                resolvedAt: try row.decode(atIndex: 16)
            ))
        }
        return records
    }
}
