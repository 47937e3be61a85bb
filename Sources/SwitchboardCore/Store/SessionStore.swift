import SwitchboardAdapterAPI

/// What the store keeps of one session: enough to find it again and restore it.
public struct SessionRecord: Sendable, Hashable {
    /// Our session id (`session-<epoch ms>-<7 base-36 chars>`, or one a client chose).
    public var id: String
    /// The workspace it belongs to (`@host` for the host).
    public var workspaceName: String
    /// The agent type that serves it.
    public var agentType: String
    /// The agent's own session id, once known.
    public var agentSessionId: String?
    /// The project directory, if one was given.
    public var projectPath: String?
    /// The model last chosen, if any.
    public var model: String?
    /// When it was created, in milliseconds since 1970.
    public var createdAt: Int64
    /// When anything last happened in it, in milliseconds since 1970.
    public var lastActivity: Int64

    public init(
        id: String,
        workspaceName: String,
        agentType: String,
        agentSessionId: String? = nil,
        projectPath: String? = nil,
        model: String? = nil,
        createdAt: Int64,
        lastActivity: Int64
    ) {
        self.id = id
        self.workspaceName = workspaceName
        self.agentType = agentType
        self.agentSessionId = agentSessionId
        self.projectPath = projectPath
        self.model = model
        self.createdAt = createdAt
        self.lastActivity = lastActivity
    }
}

/// Where sessions are persisted so they can be found and restored later — across daemon
/// restarts and by other processes sharing the state directory.
///
/// ## Implementation requirements
/// - **Nothing is lost or silently reset.** A store that cannot read its data fails with a
///   ``SessionStoreError`` at open; it never replaces unreadable data with an empty store.
/// - **Writes are durable once they return**, and atomic: a process killed mid-write loses
///   at most the write in progress, never a committed record.
/// - **Several processes may share one store**; no update is lost between them.
/// - ``list(workspace:)`` returns the newest activity first.
/// - ``importSession(_:)`` is idempotent: when a record with the same agent type and agent
///   session id exists (or one with the same id), that record is returned unchanged.
///
/// `SQLiteSessionStore` is the embedded default; `InMemorySessionStore` serves tests.
public protocol SessionStore: Sendable {
    /// Adds a new record. Fails with ``SessionStoreError/Code/duplicateID`` when the id exists.
    func create(_ record: SessionRecord) async throws

    /// Records the agent's session id for session `id` and updates its last activity.
    /// Fails with ``SessionStoreError/Code/notFound`` for an unknown id.
    func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) async throws

    /// Updates the last activity (and the model, when given) of session `id`; unknown ids
    /// fail with ``SessionStoreError/Code/notFound``.
    func touch(_ id: String, at time: Int64, model: String?) async throws

    /// The record with our id, or `nil`.
    func get(_ id: String) async throws -> SessionRecord?

    /// The record with this agent session id (the most recently active one if several
    /// agent types share it), or `nil`.
    func find(agentSessionId: String) async throws -> SessionRecord?

    /// The records of one workspace, or all when `workspace` is `nil`, newest activity first.
    func list(workspace: String?) async throws -> [SessionRecord]

    /// Adds a session that came from elsewhere (e.g. the original system's registry),
    /// unless it is already known; returns the stored record either way.
    func importSession(_ record: SessionRecord) async throws -> SessionRecord

    /// Removes a record, with the session's event log, queue and client message ids;
    /// removing an unknown id does nothing. The session's audit-log rows stay: the audit log
    /// outlives the sessions it tells about.
    func delete(_ id: String) async throws

    // MARK: The audit log of decision requests

    /// Adds a request to the audit log (pending, or already closed when a rule decided it).
    /// Fails with ``SessionStoreError/Code/duplicateID`` when its id exists.
    func recordDecision(_ record: DecisionRecord) async throws

    /// Closes a pending request: replaces its state and decision fields with `record`'s.
    /// - Returns: false (changing nothing) when the request is not pending or unknown.
    func closeDecision(_ record: DecisionRecord) async throws -> Bool

    /// The request with this id, or `nil`.
    func decision(_ id: String) async throws -> DecisionRecord?

    /// Requests matching `query`, newest first.
    func decisions(_ query: DecisionQuery) async throws -> [DecisionRecord]

    /// Marks every pending request expired, by ``DecisionSource/restart``, at `time`: what
    /// the daemon does at start for requests a previous run left open.
    /// - Returns: how many were expired.
    func expirePendingDecisions(at time: Int64) async throws -> Int

    /// Whether writes are still kept; a store whose file can vanish or be replaced under it
    /// reports that here (and refuses writes with ``SessionStoreError/Code/unavailable``).
    /// The default is ``SessionStoreHealth/healthy``.
    func health() async -> SessionStoreHealth

    /// What kind of store this is, as `/health` reports it: `sqlite`, `postgres`, `memory`.
    /// The default is `custom`.
    var storeKind: String { get }

    // MARK: The event log

    /// Appends frames to their sessions' logs, all in one transaction. A frame whose
    /// (session, seq) is logged already is left as it was. Durable against a crash of the
    /// process once it returns (a power loss may lose the newest; see `Docs/Sessions.md`).
    func appendFrames(_ frames: [LoggedFrame]) async throws

    /// Up to `limit` frames of a session with a `seq` above `seq`, in `seq` order.
    func frames(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame]

    /// The oldest and the newest `seq` a session's log keeps; `nil` when it keeps none.
    func frameBounds(_ sessionId: String) async throws -> ClosedRange<Int>?

    /// Removes a session's oldest frames beyond `retention` (count, bytes, and those made
    /// before `now` minus the age); returns how many went. The newest frame is always kept.
    func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) async throws -> Int

    /// The sessions whose logs keep frames made before `time` (for pruning by age).
    func sessionsWithFrames(before time: Int64) async throws -> [String]

    // MARK: The message queue

    /// Adds a message to its session's queue (after the others).
    func enqueueMessage(_ message: QueuedMessage) async throws

    /// Takes a message out of its session's queue; false when it is not there.
    func removeQueuedMessage(_ sessionId: String, queueId: String) async throws -> Bool

    /// The queued messages of one session (or of all, when `nil`), oldest first.
    func queuedMessages(_ sessionId: String?) async throws -> [QueuedMessage]

    // MARK: Messages sent with a client's id

    /// Records what became of a message with a `clientMessageId`, or updates the record (a
    /// queued message that was sent).
    func recordClientMessage(_ record: ClientMessageRecord) async throws

    /// What became of the message with `clientMessageId` in a session, or `nil`.
    func clientMessage(_ sessionId: String, _ clientMessageId: String) async throws -> ClientMessageRecord?
}

/// The domain of ``SessionStoreError``: failures of a session store.
public enum SessionStoreErrorDomain {}

/// A store failure: a code that can grow and a message that names the file or record.
public typealias SessionStoreError = SwitchboardError<SessionStoreErrorDomain>

extension ErrorCode where Domain == SessionStoreErrorDomain {
    /// The database could not be opened or read (corrupt, not a database, no access).
    public static var unreadable: Self { Self("unreadable") }
    /// A record with that id exists already.
    public static var duplicateID: Self { Self("duplicateID") }
    /// No record has that id.
    public static var notFound: Self { Self("notFound") }
    /// A write failed.
    public static var writeFailed: Self { Self("writeFailed") }
    /// An import file is not usable.
    public static var invalidImport: Self { Self("invalidImport") }
}
