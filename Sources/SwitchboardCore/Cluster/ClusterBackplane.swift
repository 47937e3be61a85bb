import SwitchboardAdapterAPI

/// Who runs a session's agent: one node at a time, until `expiresAt` unless renewed.
public struct SessionLease: Sendable, Hashable {
    /// The session.
    public var sessionId: String
    /// The node that holds it.
    public var owner: String
    /// When it lapses without renewal (epoch ms, the database's clock).
    public var expiresAt: Int64
    /// Counts the changes of owner: a new owner's claim raises it.
    public var epoch: Int64
    /// Whether it had lapsed when it was read (judged by the database's clock).
    public var expired: Bool

    public init(sessionId: String, owner: String, expiresAt: Int64, epoch: Int64, expired: Bool) {
        self.sessionId = sessionId
        self.owner = owner
        self.expiresAt = expiresAt
        self.epoch = epoch
        self.expired = expired
    }
}

/// What came of claiming a session's lease.
public enum LeaseClaim: Sendable, Hashable {
    /// The claiming node holds it now (it was free, lapsed, or its own already).
    case granted(SessionLease)
    /// Another node holds it and has renewed it in time.
    case held(SessionLease)
}

/// A node as the shared store knows it.
public struct ClusterNodeRecord: Sendable, Hashable {
    /// Its `cluster.nodeId`.
    public var nodeId: String
    /// Its `cluster.advertise`.
    public var advertise: String?
    /// When it joined (epoch ms).
    public var startedAt: Int64
    /// When it last renewed its leases (epoch ms, the database's clock).
    public var heartbeatAt: Int64
    /// How long ago that was when read, in ms: the node's lag.
    public var heartbeatAge: Int64
    /// How many sessions it ran then.
    public var liveSessions: Int

    public init(nodeId: String, advertise: String?, startedAt: Int64, heartbeatAt: Int64, heartbeatAge: Int64, liveSessions: Int) {
        self.nodeId = nodeId
        self.advertise = advertise
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.heartbeatAge = heartbeatAge
        self.liveSessions = liveSessions
    }
}

/// A request from one node to the node that owns a session: a client's message, interrupt,
/// model change, queue edit or decision, which only the owner can apply.
public struct ClusterCommand: Sendable, Hashable {
    /// Its number in the shared store.
    public var id: Int64
    /// The session it is for.
    public var sessionId: String
    /// The node that sent it (and waits for the answer).
    public var from: String
    /// The node it is addressed to.
    public var to: String
    /// What to do (see ``SessionManager`` `applyClusterCommand`).
    public var body: JSONValue

    public init(id: Int64, sessionId: String, from: String, to: String, body: JSONValue) {
        self.id = id
        self.sessionId = sessionId
        self.from = from
        self.to = to
        self.body = body
    }
}

/// What the shared store tells the nodes as it happens.
public enum ClusterSignal: Sendable, Hashable {
    /// A session's event log has frames up to `seq`.
    case frames(sessionId: String, seq: Int)
    /// Commands wait for the node `to`.
    case commands(to: String)
    /// The command `id` sent by the node `to` has its answer.
    case answered(to: String, id: Int64)
}

/// The shared state of a cluster's nodes beside the session store: node rows, session leases,
/// the commands between nodes, and the signals that wake them (PostgreSQL's LISTEN/NOTIFY).
///
/// Every time that decides a lease is the store's own clock, so the nodes' clocks need not
/// agree.
public protocol ClusterBackplane: Sendable {
    /// Records the node (or refreshes its row, when it was known).
    func join(nodeId: String, advertise: String?) async throws

    /// Removes the node's row and gives up its leases: a node that stops cleanly.
    func leave(nodeId: String) async throws

    /// Renews every lease the node still holds for `leaseSeconds` and records its heartbeat.
    /// - Returns: the sessions whose leases it holds.
    func renew(nodeId: String, liveSessions: Int, leaseSeconds: Int) async throws -> Set<String>

    /// Takes the session's lease for `nodeId` in one statement: granted when the lease is free,
    /// lapsed or the node's own; else who holds it.
    func claim(_ sessionId: String, nodeId: String, leaseSeconds: Int) async throws -> LeaseClaim

    /// Gives up the session's lease, if the node holds it.
    func release(_ sessionId: String, nodeId: String) async throws

    /// The session's lease, or `nil` when no node has held it.
    func lease(_ sessionId: String) async throws -> SessionLease?

    /// Every lease.
    func leases() async throws -> [SessionLease]

    /// Every node's row.
    func nodes() async throws -> [ClusterNodeRecord]

    /// Stores a command for the node `to` and wakes it.
    /// - Returns: the command's id.
    func post(sessionId: String, from: String, to: String, body: JSONValue) async throws -> Int64

    /// Takes the commands waiting for the node, oldest first: each is taken by one call only.
    func take(for nodeId: String) async throws -> [ClusterCommand]

    /// Stores a taken command's answer and wakes its sender.
    func answer(_ command: ClusterCommand, with result: JSONValue) async throws

    /// The answer to a command, once there is one.
    func answerOf(_ id: Int64) async throws -> JSONValue?

    /// Takes back a command nobody has taken yet.
    /// - Returns: `true` when it was withdrawn; `false` when its node took it already.
    func withdraw(_ id: Int64) async throws -> Bool

    /// The sessions with queued messages whose lease lapsed: their node is gone.
    func orphanedQueues() async throws -> [String]

    /// Delivers the store's signals until the task is cancelled; throws when the connection
    /// that listens fails (the caller listens again, and catches up on what it missed).
    /// `ready` is called once it listens.
    func listen(_ ready: @Sendable () async -> Void, _ deliver: @Sendable (ClusterSignal) async -> Void) async throws
}
