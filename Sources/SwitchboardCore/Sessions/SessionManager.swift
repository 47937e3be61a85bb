import Logging
import SwitchboardAdapterAPI

/// Owns the live sessions: one adapter each, a buffer of recent frames, and the clients
/// connected to it; persists what is needed to find and restore a session in a
/// ``SessionStore``.
///
/// Every frame a client receives — chat messages, `system` notices of status changes
/// (`{"status":"idle"}`) and of the agent's session id (`{"agentSessionId":"…"}`), errors — is
/// buffered with a per-session sequence number, so a client that reconnects with the last
/// number it saw gets exactly what it missed. Clients are fed through their own bounded
/// queues: a slow client never delays another, and one that falls too far behind is
/// disconnected with the reason.
public actor SessionManager {
    /// The manager's limits and naming rules.
    public struct Configuration: Sendable, Hashable {
        /// How many frames each session keeps.
        public var messageBufferSize: Int
        /// How many bytes of frames each session keeps at most.
        public var messageBufferBytes: Int
        /// Containers are named `<prefix><workspace>`.
        public var containerPrefix: String
        /// Whether the workspace `@host` may be used.
        public var allowHostWorkspace: Bool
        /// Handed to adapters as their state directory.
        public var stateDirectory: String?
        /// How many frames may wait for one client before it is disconnected.
        public var clientQueueLimit: Int
        /// How long a session with no clients and no running turn stays live (see
        /// ``SessionManager/runIdleExpiry()``); `nil`: until it is disposed.
        public var sessionIdleTimeout: Duration? = nil
        /// How many sessions may be live at once; `nil`: no limit.
        public var maxLiveSessions: Int? = nil
        /// The rules for decision requests, and their timeout.
        public var approvals: ApprovalPolicy
        /// How much of each session's event log is kept.
        public var history = HistoryRetention()
        /// How many messages may wait in one session's queue.
        public var queueLimit = 100
        /// Where per-session lock files go (`<stateDirectory>/locks`): while a session is live
        /// here, another process using the same directory cannot run it. `nil`: no locks.
        public var lockDirectory: String?

        public init(
            messageBufferSize: Int = 1000,
            messageBufferBytes: Int = 8 * 1024 * 1024,
            containerPrefix: String = "workspace-",
            allowHostWorkspace: Bool = true,
            stateDirectory: String? = nil,
            clientQueueLimit: Int = 1000,
            approvals: ApprovalPolicy = ApprovalPolicy()
        ) {
            self.messageBufferSize = messageBufferSize
            self.messageBufferBytes = messageBufferBytes
            self.containerPrefix = containerPrefix
            self.allowHostWorkspace = allowHostWorkspace
            self.stateDirectory = stateDirectory
            self.clientQueueLimit = clientQueueLimit
            self.approvals = approvals
        }

        /// The settings a config file gives.
        public init(_ config: SwitchboardConfig) {
            self.init(
                messageBufferSize: config.messageBufferSize,
                messageBufferBytes: config.messageBufferBytes,
                containerPrefix: config.containerPrefix,
                allowHostWorkspace: config.allowHostWorkspace ?? true,
                stateDirectory: config.stateDirectory,
                clientQueueLimit: config.clientQueueLimit,
                approvals: config.approvals
            )
            sessionIdleTimeout = .seconds(min(max(config.sessionIdleMinutes, 1), SwitchboardConfig.sessionIdleMinutesRange.upperBound) * 60)
            maxLiveSessions = config.maxLiveSessions
            history = config.history
            queueLimit = config.queueLimit
        }
    }

    /// A live session. Confined to the manager.
    final class Session {
        var info: SessionInfo
        /// The agent; for a mirror, a stand-in that refuses everything (see ``owner``).
        var adapter: any AgentAdapter
        var buffer: MessageBuffer
        var clients: [ClientEntry] = []
        var pump: Task<Void, Never>?
        /// After the manager changes the status itself (send → running, interrupt →
        /// interrupted), status events still in flight from before are stale; they are
        /// ignored until the adapter reports this status.
        var awaitedStatus: SessionStatus?
        var disposed = false
        /// When the last client left (epoch ms), for the idle expiry.
        var lastClientLeft: Int64 = 0
        /// Decision requests waiting for a person, by the manager's request id.
        var decisions: [String: OpenDecision] = [:]
        /// The manager's request id of each open request, by the adapter's own id.
        var decisionIDs: [String: String] = [:]
        /// Every id the adapter has asked with: a repeated id is refused.
        var askedIDs: Set<String> = []
        /// Frames made but not yet in the event log, oldest first: delivered once committed.
        var uncommitted: [SessionFrame] = []
        /// Whether the last write of its frames to the log failed (told to clients once).
        var logFailing = false
        /// Messages waiting for the running turn to end, next first.
        var queue: [QueuedMessage] = []
        /// While above 0 the queue is not drained (an interrupting send is on its way).
        var queueHolds = 0
        /// Messages sent with a client's id in this run: their outcome, or a send under way.
        var clientMessages: [String: ClientMessageState] = [:]
        /// The lock that keeps other processes from running the session at the same time.
        var lock: SessionLock?
        /// The node that runs the agent when this is a mirror of a session another node of the
        /// cluster owns: its frames come from the shared event log, what its clients send goes
        /// to that node. `nil`: the agent runs here.
        var owner: String?
        /// A mirror: the newest `seq` read from the log.
        var mirroredUpTo = -1
        /// A mirror: the newest `seq` the log is known to have.
        var wantedSeq = -1
        /// A mirror: the read of the log under way.
        var catchUp: Task<Void, Never>?

        init(info: SessionInfo, adapter: any AgentAdapter, buffer: MessageBuffer) {
            self.info = info
            self.adapter = adapter
            self.buffer = buffer
        }
    }

    struct ClientEntry {
        let id: String
        let client: SessionClient
        let outbox: ClientOutbox
        let delivery: Task<Void, Never>
    }

    let registry: AgentRegistry
    let store: any SessionStore
    /// One line per session start, stop and error; never message contents.
    let logger: Logger
    /// The manager's limits and naming rules.
    public let configuration: Configuration

    var sessions: [String: Session] = [:]
    /// Sessions whose adapter is starting: their frames are committed like the others'.
    var startingSessions: [String: Session] = [:]
    /// The session of each open decision request, by the manager's request id.
    var decisionSessions: [String: String] = [:]
    private var starting: [String: Task<String, any Error>] = [:]
    var nextClientNumber = 1
    /// Sessions being created, counted against ``Configuration/maxLiveSessions``.
    var reservedStarts = 0
    /// Writes every session's frames to the store's event log before they are delivered.
    let frameLog: FrameLog
    /// This daemon as a node of a cluster, or `nil` when it runs alone.
    let cluster: ClusterNode?
    /// Sessions another (full) node asked this one to start: they start here or not at all.
    var placedHere: Set<String> = []
    private let commits: CommitSink

    /// A manager that makes adapters through `registry` and persists sessions in `store`.
    public init(
        registry: AgentRegistry,
        store: any SessionStore,
        configuration: Configuration = Configuration(),
        cluster: ClusterNode? = nil,
        logger: Logger = Logger(label: "switchboard.sessions")
    ) {
        self.registry = registry
        self.store = store
        self.configuration = configuration
        self.cluster = cluster
        self.logger = logger
        let commits = CommitSink()
        self.commits = commits
        self.frameLog = FrameLog(store: store) { commit, error in await commits.manager?.committed(commit, error: error) }
        commits.manager = self
    }

    // MARK: - Starting

    /// Starts a session, or returns the live one with the given id.
    ///
    /// When a live session has `options.sessionId`, no adapter is made: a differing model is
    /// applied and the id returned. Otherwise the adapter is made through the registry, the
    /// session recorded in the store, and the adapter started; only then is the session
    /// live. If anything fails the error is thrown and nothing is left half-made. Concurrent
    /// starts with one id make exactly one adapter.
    /// - Returns: the session id.
    @discardableResult
    public func start(_ options: SessionStartOptions) async throws -> String {
        if let id = options.sessionId {
            if let live = sessions[id] {
                try await applyModel(options.model, to: live)
                return id
            }
            if let pending = starting[id] {
                let started = try await pending.value
                if let live = sessions[started] { try await applyModel(options.model, to: live) }
                return started
            }
            let task = Task { try await self.createSession(id: id, options) }
            starting[id] = task
            defer { starting[id] = nil }
            return try await task.value
        }
        return try await createSession(id: Self.newSessionID(), options)
    }

    private func createSession(id: String, _ requested: SessionStartOptions) async throws -> String {
        // A stored session comes back as it was recorded: its workspace and agent type win.
        let existing = try await store.get(id)
        guard let cluster else { return try await createLocalSession(id: id, requested, existing: existing) }
        // A new session on a node that is full starts on the least-loaded other node.
        if existing == nil, !placedHere.contains(id), let limit = configuration.maxLiveSessions, ownedCount + reservedStarts >= limit,
           let target = try await leastLoadedNode() {
            return try await startElsewhere(id: id, requested, on: target)
        }
        // One node runs the agent: the one that holds the lease. Another node mirrors it.
        if case .held(let lease) = try await cluster.claim(id) {
            guard let existing else {
                throw SessionError(.movedToAnotherNode, "Session \(id) is held by node \(lease.owner) but is not in the store.")
            }
            return try await mirror(existing, owner: lease.owner, projectPath: requested.projectPath)
        }
        do {
            return try await createLocalSession(id: id, requested, existing: existing)
        } catch {
            await cluster.release(id)
            throw error
        }
    }

    private func createLocalSession(id: String, _ requested: SessionStartOptions, existing: SessionRecord?) async throws -> String {
        try reserveLiveSlot()
        defer { reservedStarts -= 1 }
        var options = requested
        if let existing {
            options.workspaceName = existing.workspaceName
            options.agentType = existing.agentType
        }
        let isHost = options.workspaceName == hostWorkspaceName
        if isHost && !configuration.allowHostWorkspace {
            throw SessionError(.hostWorkspaceDisabled, "The host workspace '\(hostWorkspaceName)' is not allowed on this server (see allowHostWorkspace and serve --no-host-access).")
        }
        // Another process of this state directory may run the session: refuse, naming it.
        let lock = try configuration.lockDirectory.map { directory throws(SessionError) in
            try SessionLock.acquire(sessionId: id, in: directory)
        }
        let adapter: any AgentAdapter
        do {
            // Off the actor, with the type's deadline: a plugin's create that blocks stalls no other session.
            adapter = try await registry.makeAdapter(for: options.agentType, timeout: nil)
        } catch {
            lock?.release()
            throw error
        }
        let now = Int64(Timestamp.epochMilliseconds())
        if existing == nil {
            do {
                try await store.create(SessionRecord(
                    id: id, workspaceName: options.workspaceName, agentType: options.agentType,
                    agentSessionId: options.agentSessionId, projectPath: options.projectPath,
                    model: options.model, createdAt: now, lastActivity: now
                ))
            } catch {
                await adapter.dispose()
                lock?.release()
                throw error
            }
        }
        let container = isHost ? nil : configuration.containerPrefix + options.workspaceName
        let session = Session(
            info: SessionInfo(
                id: id, workspaceName: options.workspaceName, agentType: options.agentType,
                agentSessionId: options.agentSessionId ?? existing?.agentSessionId,
                model: options.model ?? existing?.model, projectPath: options.projectPath ?? existing?.projectPath,
                containerName: container, status: .idle, createdAt: existing?.createdAt ?? now, lastActivity: now
            ),
            adapter: adapter,
            buffer: MessageBuffer(maxCount: configuration.messageBufferSize, maxBytes: configuration.messageBufferBytes)
        )
        session.lock = lock
        if existing != nil {
            // A restored session continues its numbering, with its log's tail in the ring and
            // its queue as it was.
            await restoreHistory(of: session)
        }
        startingSessions[id] = session
        defer { startingSessions[id] = nil }
        do {
            try await launch(session, isHost: isHost)
        } catch {
            lock?.release()
            if existing == nil { try? await store.delete(id) }
            logger.warning("session start failed", metadata: ["session": "\(id)", "agent": "\(options.agentType)", "error": "\(Self.describe(error))"])
            throw error
        }
        sessions[id] = session
        logger.info("session started", metadata: [
            "session": "\(id)", "workspace": "\(options.workspaceName)", "agent": "\(options.agentType)",
            "restored": "\(existing != nil)",
        ])
        return id
    }

    /// Starts the session's adapter with its pump; on failure the adapter is disposed.
    func launch(_ session: Session, isHost: Bool) async throws {
        let adapter = session.adapter
        let info = session.info
        // Events that arrive while the adapter starts (its session id, say) are kept.
        // Asked here, before the adapter starts: what it emits from now on is in the queue.
        let queue = adapter.eventQueue
        session.pump = Task {
            if let queue {
                // Everything that arrived while the last batch was applied, in one actor turn.
                while true {
                    let batch = await queue.next()
                    if batch.isEmpty { break }
                    await self.handle(batch, in: session)
                }
            } else {
                for await event in adapter.events {
                    await self.handle(event, in: session)
                }
            }
        }
        do {
            try await adapter.start(StartOptions(
                workspaceName: info.workspaceName, containerName: info.containerName,
                agentSessionId: info.agentSessionId, model: info.model,
                projectPath: info.projectPath, isHost: isHost,
                stateDirectory: configuration.stateDirectory
            ))
        } catch {
            session.disposed = true
            await adapter.dispose()
            session.pump?.cancel()
            throw error
        }
    }

    private func applyModel(_ model: String?, to session: Session) async throws {
        guard let model, model != session.info.model else { return }
        try await setModel(session.info.id, model: model)
    }

    /// A new id: `session-<epoch ms>-<7 random base-36 characters>`.
    public static func newSessionID() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<7).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        return "session-\(Timestamp.epochMilliseconds())-\(suffix)"
    }

    // MARK: - Turns

    /// Interrupts the running turn; the status becomes `interrupted`. Unknown ids: no-op.
    public func interrupt(_ sessionId: String) async {
        guard let session = sessions[sessionId] else { return }
        if let owner = session.owner {
            do {
                _ = try await forward(.object(["op": .string("interrupt")]), for: session, to: owner)
            } catch {
                broadcast(ChatMessage(type: .error, content: "Interrupt failed: \(Self.describe(error))"), in: session)
            }
            return
        }
        await closeDecisions(in: session, source: .interrupt)
        do {
            try await session.adapter.interrupt()
        } catch {
            broadcast(ChatMessage(type: .error, content: "Interrupt failed: \(Self.describe(error))"), in: session)
        }
        guard !session.disposed else { return }
        // The adapter's own `interrupted` confirms it; anything older is stale.
        session.awaitedStatus = session.info.status == .running ? .interrupted : nil
        setStatus(.interrupted, of: session)
        session.info.lastActivity = Int64(Timestamp.epochMilliseconds())
    }

    /// Chooses the model for the session's next turn. Unknown ids: no-op.
    public func setModel(_ sessionId: String, model: String) async throws {
        guard let session = sessions[sessionId] else { return }
        if let owner = session.owner {
            _ = try await forward(.object(["op": .string("setModel"), "model": .string(model)]), for: session, to: owner)
            session.info.model = model
            return
        }
        try await session.adapter.setModel(model)
        session.info.model = model
        session.info.lastActivity = Int64(Timestamp.epochMilliseconds())
        await persistActivity(of: session)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as AdapterError: e.message
        case let e as SessionError: e.message
        default: String(describing: error)
        }
    }
}
