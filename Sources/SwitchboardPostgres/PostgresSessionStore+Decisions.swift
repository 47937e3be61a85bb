import PostgresNIO
import SwitchboardAdapterAPI
import SwitchboardCore

/// The audit log of decision requests: the `decisions` table. Options and answers are kept
/// as JSON text, as in the SQLite store; every query uses an index.
extension PostgresSessionStore {
    /// Adds a request; fails with ``SessionStoreError/Code/duplicateID`` when its id exists.
    public func recordDecision(_ record: DecisionRecord) async throws {
        let inserted = try await rows("record decision request '\(record.id)'", DecisionSQL.insert, Self.bindings(record)) { _ in true }
        guard !inserted.isEmpty else {
            throw SessionStoreError(.duplicateID, "Decision request '\(record.id)' already exists in \(subject).")
        }
    }

    /// Closes a pending request with `record`'s state and decision; false when it is not pending.
    public func closeDecision(_ record: DecisionRecord) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(record.state.rawValue)
        binds.append(record.decision)
        binds.append(record.decidedBy)
        binds.append(record.decider)
        binds.append(record.message)
        binds.append(Self.answersText(record.answers))
        binds.append(record.resolvedAt)
        binds.append(record.id)
        return try await !rows("close decision request '\(record.id)'", DecisionSQL.close, binds) { _ in true }.isEmpty
    }

    /// The request with this id, or `nil`.
    public func decision(_ id: String) async throws -> DecisionRecord? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await rows("read decision request '\(id)'", DecisionSQL.get, binds, Self.decisionRecord).first
    }

    /// Requests matching `query`, newest first.
    public func decisions(_ query: DecisionQuery) async throws -> [DecisionRecord] {
        let limit = Int64(min(max(query.limit, 0), DecisionQuery.maximumLimit))
        var binds = PostgresBindings()
        let sql: String
        switch (query.sessionId, query.state) {
        case (let session?, let state?):
            binds.append(session)
            binds.append(state.rawValue)
            sql = DecisionSQL.bySessionAndState
        case (let session?, nil):
            binds.append(session)
            sql = DecisionSQL.bySession
        case (nil, let state?):
            binds.append(state.rawValue)
            sql = DecisionSQL.byState
        case (nil, nil):
            sql = DecisionSQL.all
        }
        binds.append(limit)
        return try await rows("list decision requests", sql, binds, Self.decisionRecord)
    }

    /// Expires every pending request, by `restart`.
    public func expirePendingDecisions(at time: Int64) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(DecisionResolution.cancelled)
        binds.append(DecisionSource.restart.by)
        binds.append(time)
        return try await rows("expire pending decision requests", DecisionSQL.expire, binds) { _ in true }.count
    }

    // MARK: - Rows

    enum DecisionSQL {
        static let columns = """
            id, session_id, agent_type, kind, tool_name, tool_id, summary, input, options, state, decision, \
            decided_by, decider, message, answers, requested_at, resolved_at
            """
        static let insert = """
            INSERT INTO decisions (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """
        static let close = """
            UPDATE decisions SET state = $1, decision = $2, decided_by = $3, decider = $4, message = $5, answers = $6, resolved_at = $7
            WHERE id = $8 AND state = 'pending' RETURNING id
            """
        static let get = "SELECT \(columns) FROM decisions WHERE id = $1"
        static let bySession = "SELECT \(columns) FROM decisions WHERE session_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2"
        static let bySessionAndState =
            "SELECT \(columns) FROM decisions WHERE session_id = $1 AND state = $2 ORDER BY requested_at DESC, id DESC LIMIT $3"
        static let byState = "SELECT \(columns) FROM decisions WHERE state = $1 ORDER BY requested_at DESC, id DESC LIMIT $2"
        static let all = "SELECT \(columns) FROM decisions ORDER BY requested_at DESC, id DESC LIMIT $1"
        static let expire = """
            UPDATE decisions SET state = 'expired', decision = $1, decided_by = $2, resolved_at = $3 WHERE state = 'pending' RETURNING id
            """
    }

    static func bindings(_ r: DecisionRecord) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(r.id)
        binds.append(r.sessionId)
        binds.append(r.agentType)
        binds.append(r.kind.rawValue)
        binds.append(r.toolName)
        binds.append(r.toolId)
        binds.append(r.summary)
        binds.append(r.input)
        binds.append(JSONValue.array(r.options.map(JSONValue.string)).jsonText)
        binds.append(r.state.rawValue)
        binds.append(r.decision)
        binds.append(r.decidedBy)
        binds.append(r.decider)
        binds.append(r.message)
        binds.append(answersText(r.answers))
        binds.append(r.requestedAt)
        binds.append(r.resolvedAt)
        return binds
    }

    static func answersText(_ answers: [String: String]) -> String? {
        answers.isEmpty ? nil : JSONValue.object(answers.mapValues(JSONValue.string)).jsonText
    }

    /// Decodes a row of ``DecisionSQL/columns``; JSON columns that do not parse read as no
    /// options and no answers rather than failing the whole query.
    @Sendable static func decisionRecord(_ row: PostgresRow) throws -> DecisionRecord {
        let (id, sessionId, agentType, kind, toolName, toolId, summary, input, optionsText, state, decision,
             decidedBy, decider, message, answersText, requestedAt, resolvedAt) =
            try row.decode((String, String, String, String, String, String?, String, String, String, String, String?,
                            String?, String?, String?, String?, Int64, Int64?).self)
        let options = ((try? JSONValue(parsing: optionsText))?.arrayValue ?? []).compactMap(\.stringValue)
        var answers: [String: String] = [:]
        if let answersText, let map = (try? JSONValue(parsing: answersText))?.objectValue {
            for (key, value) in map { if let text = value.stringValue { answers[key] = text } }
        }
        return DecisionRecord(
            id: id, sessionId: sessionId, agentType: agentType, kind: DecisionRequest.Kind(rawValue: kind) ?? .permission,
            toolName: toolName, toolId: toolId, summary: summary, input: input, options: options,
            state: DecisionRecord.State(rawValue: state) ?? .expired, decision: decision, decidedBy: decidedBy, decider: decider,
            message: message, answers: answers, requestedAt: requestedAt, resolvedAt: resolvedAt
        )
    }
}
