/// A ``SessionStore`` that keeps its records in memory, for tests.
///
/// It follows every rule of the protocol except persistence: its records vanish with it,
/// and other processes cannot see them.
public actor InMemorySessionStore: SessionStore {
    private var records: [String: SessionRecord] = [:]
    private var decisionLog: [String: DecisionRecord] = [:]
    var logs: [String: SessionLog] = [:]
    var queue: [QueuedMessage] = []
    var clientMessages: [String: ClientMessageRecord] = [:]

    /// `memory`.
    public nonisolated var storeKind: String { "memory" }

    /// A store holding `records` (later ones replace earlier ones with the same id).
    public init(_ records: [SessionRecord] = []) {
        for record in records { self.records[record.id] = record }
    }

    /// Adds a new record; fails with ``SessionStoreError/Code/duplicateID`` when the id exists.
    public func create(_ record: SessionRecord) throws {
        guard records[record.id] == nil else {
            throw SessionStoreError(.duplicateID, "Session '\(record.id)' already exists in the in-memory session store.")
        }
        records[record.id] = record
    }

    /// Records the agent's session id and the time of the link as the last activity.
    public func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) throws {
        try update(id) { record in
            record.agentSessionId = agentSessionId
            record.lastActivity = time
        }
    }

    /// Updates the last activity, and the model when one is given.
    public func touch(_ id: String, at time: Int64, model: String?) throws {
        try update(id) { record in
            record.lastActivity = time
            if let model { record.model = model }
        }
    }

    /// The record with our id, or `nil`.
    public func get(_ id: String) -> SessionRecord? {
        records[id]
    }

    /// The most recently active record with this agent session id, or `nil`.
    public func find(agentSessionId: String) -> SessionRecord? {
        records.values.filter { $0.agentSessionId == agentSessionId }.sorted(by: Self.newestFirst).first
    }

    /// The records of one workspace (or all), newest activity first, ties by id.
    public func list(workspace: String?) -> [SessionRecord] {
        records.values.filter { workspace == nil || $0.workspaceName == workspace }.sorted(by: Self.newestFirst)
    }

    /// Adds the record unless one with the same agent type and agent session id, or the
    /// same id, exists; returns the stored record.
    public func importSession(_ record: SessionRecord) -> SessionRecord {
        if let agentSessionId = record.agentSessionId,
           let existing = records.values
               .filter({ $0.agentType == record.agentType && $0.agentSessionId == agentSessionId })
               .sorted(by: Self.newestFirst).first {
            return existing
        }
        if let existing = records[record.id] { return existing }
        records[record.id] = record
        return record
    }

    /// Removes a record; an unknown id does nothing.
    public func delete(_ id: String) {
        records[id] = nil
        forgetHistory(of: id)
    }

    /// Adds a request to the audit log; a duplicate id fails.
    public func recordDecision(_ record: DecisionRecord) throws {
        guard decisionLog[record.id] == nil else {
            throw SessionStoreError(.duplicateID, "Decision request '\(record.id)' already exists in the in-memory session store.")
        }
        decisionLog[record.id] = record
    }

    /// Closes a pending request; false when it is not pending.
    public func closeDecision(_ record: DecisionRecord) -> Bool {
        guard decisionLog[record.id]?.state == .pending else { return false }
        decisionLog[record.id] = record
        return true
    }

    /// The request with this id, or `nil`.
    public func decision(_ id: String) -> DecisionRecord? {
        decisionLog[id]
    }

    /// Requests matching `query`, newest first (ties by id).
    public func decisions(_ query: DecisionQuery) -> [DecisionRecord] {
        decisionLog.values
            .filter { (query.sessionId == nil || $0.sessionId == query.sessionId) && (query.state == nil || $0.state == query.state) }
            .sorted { ($0.requestedAt, $0.id) > ($1.requestedAt, $1.id) }
            .prefix(max(0, query.limit))
            .map { $0 }
    }

    /// Expires every pending request.
    public func expirePendingDecisions(at time: Int64) -> Int {
        var count = 0
        for (id, record) in decisionLog where record.state == .pending {
            var expired = record
            expired.state = .expired
            expired.decision = DecisionResolution.cancelled
            expired.decidedBy = DecisionSource.restart.by
            expired.resolvedAt = time
            decisionLog[id] = expired
            count += 1
        }
        return count
    }

    private func update(_ id: String, _ change: (inout SessionRecord) -> Void) throws {
        guard var record = records[id] else {
            throw SessionStoreError(.notFound, "Session '\(id)' does not exist in the in-memory session store.")
        }
        change(&record)
        records[id] = record
    }

    /// The order ``list(workspace:)`` promises, with the id as the tie-break (as the SQLite
    /// store's index gives it).
    static func newestFirst(_ a: SessionRecord, _ b: SessionRecord) -> Bool {
        a.lastActivity != b.lastActivity ? a.lastActivity > b.lastActivity : a.id < b.id
    }
}
