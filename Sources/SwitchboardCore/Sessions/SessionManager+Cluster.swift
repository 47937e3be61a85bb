import Logging
import SwitchboardAdapterAPI

/// The stand-in adapter of a mirror: the agent runs on another node, so nothing is asked of
/// this one (the manager forwards instead).
final class MirrorAdapter: AgentAdapter {
    let owner: String
    let events: AsyncStream<AdapterEvent>

    init(owner: String) {
        self.owner = owner
        events = AsyncStream { $0.finish() }
    }

    private var refusal: AdapterError {
        AdapterError(.invalidState, "The agent of this session runs on node \(owner).")
    }

    func start(_ options: StartOptions) async throws { throw refusal }
    func sendMessage(_ text: String) async throws { throw refusal }
    func setModel(_ model: String) async throws { throw refusal }
    func interrupt() async throws { throw refusal }
    func dispose() async {}
    var agentSessionId: String? { nil }
    var status: SessionStatus { .idle }
}

extension SessionManager {
    /// How many frames a mirror reads from the log at once.
    static let mirrorPage = 500

    // MARK: - Mirrors

    /// Makes a mirror of a stored session that another node runs: its ring holds the log's
    /// tail, its status is the last one the log reports, and it follows the log from there.
    func mirror(_ record: SessionRecord, owner: String, projectPath: String?) async throws -> String {
        if sessions[record.id] != nil { return record.id }
        let isHost = record.workspaceName == hostWorkspaceName
        let session = Session(
            info: SessionInfo(
                id: record.id, workspaceName: record.workspaceName, agentType: record.agentType,
                agentSessionId: record.agentSessionId, model: record.model, projectPath: projectPath ?? record.projectPath,
                containerName: isHost ? nil : configuration.containerPrefix + record.workspaceName,
                status: .idle, createdAt: record.createdAt, lastActivity: record.lastActivity
            ),
            adapter: MirrorAdapter(owner: owner),
            buffer: MessageBuffer(maxCount: configuration.messageBufferSize, maxBytes: configuration.messageBufferBytes)
        )
        session.owner = owner
        await restoreHistory(of: session)
        if let live = sessions[record.id] { return live.info.id }
        for frame in session.buffer.frames(after: nil).frames { observe(frame, in: session) }
        session.mirroredUpTo = session.buffer.newestSeq
        sessions[record.id] = session
        logger.info("session mirrored", metadata: ["session": "\(record.id)", "owner": "\(owner)"])
        // Frames logged while the tail was read.
        startCatchUp(session)
        return record.id
    }

    /// The owner's log has the session's frames up to `seq`: a mirror reads and delivers them.
    func mirrorHasFrames(_ sessionId: String, upTo seq: Int) {
        guard let session = sessions[sessionId], session.owner != nil else { return }
        session.wantedSeq = max(session.wantedSeq, seq)
        guard session.wantedSeq > session.mirroredUpTo else { return }
        startCatchUp(session)
    }

    /// Reads every mirror's log to its end: after signals may have been missed.
    func catchUpMirrors() {
        for session in sessions.values where session.owner != nil { startCatchUp(session) }
    }

    private func startCatchUp(_ session: Session) {
        guard session.catchUp == nil, !session.disposed else { return }
        session.catchUp = Task { await self.readLog(into: session) }
    }

    /// Reads the mirror's log after what it has, page by page to its end, and delivers it.
    private func readLog(into session: Session) async {
        defer { session.catchUp = nil }
        while !session.disposed, session.owner != nil {
            let page: [LoggedFrame]
            do {
                page = try await store.frames(session.info.id, after: session.mirroredUpTo, limit: Self.mirrorPage)
            } catch {
                logger.warning("mirror could not read the event log", metadata: ["session": "\(session.info.id)", "error": "\(Self.describe(error))"])
                return
            }
            guard !session.disposed, session.owner != nil else { return }
            deliver(page, to: session)
            // A signal that came while this page was read asks for more; an empty page is the end.
            if page.isEmpty || (page.count < Self.mirrorPage && session.mirroredUpTo >= session.wantedSeq) { return }
        }
    }

    /// Puts a page of the owner's log into a mirror's ring and sends it to its clients.
    private func deliver(_ page: [LoggedFrame], to session: Session) {
        var ready: [SessionFrame] = []
        for logged in page where logged.seq > session.mirroredUpTo {
            session.mirroredUpTo = logged.seq
            // An unreadable row is left out, as in a replay.
            guard let frame = try? SessionFrame(logged: logged) else { continue }
            session.buffer.keep(frame)
            observe(frame, in: session)
            ready.append(frame)
        }
        fanOut(ready[...], in: session)
    }

    /// What a mirror learns from a frame of the owner's: the status, the agent's session id,
    /// the queue's length.
    private func observe(_ frame: SessionFrame, in session: Session) {
        session.info.lastActivity = Int64(Timestamp.epochMilliseconds())
        switch frame.content {
        case .notice(.status(let status)): session.info.status = status
        case .notice(.agentSessionId(let id)): session.info.agentSessionId = id
        default: break
        }
    }

    // MARK: - Routing to the owner

    /// The node to send a mirror's request to, after checking its lease: `nil` when the
    /// session runs here now (its owner was gone, and this node took it over).
    func route(_ session: Session) async throws -> String? {
        guard let cluster, session.owner != nil else { return nil }
        if let lease = try await cluster.backplane.lease(session.info.id), !lease.expired, lease.owner != cluster.nodeId {
            session.owner = lease.owner
            return lease.owner
        }
        try await adopt(session)
        return session.owner
    }

    /// Sends a mirror's request to the node that owns the session.
    func forward(_ body: JSONValue, for session: Session, to owner: String) async throws -> JSONValue {
        guard let cluster else { throw SessionError(.ownerUnreachable, "This daemon is not part of a cluster.") }
        return try await cluster.forward(body, sessionId: session.info.id, to: owner)
    }

    // MARK: - Taking over

    /// Takes a mirrored session over when its lease is free: the agent starts here, resumed by
    /// its agent session id, and the clients stay attached.
    func adopt(_ session: Session) async throws {
        guard let cluster, let former = session.owner else { return }
        switch try await cluster.claim(session.info.id) {
        case .held(let lease):
            session.owner = lease.owner
        case .granted:
            do {
                try await promote(session, from: former)
            } catch {
                await cluster.release(session.info.id)
                throw error
            }
        }
    }

    private func promote(_ session: Session, from former: String) async throws {
        let id = session.info.id
        // Everything the former owner logged first, so numbering continues after it.
        session.catchUp?.cancel()
        await session.catchUp?.value
        while true {
            let page = try await store.frames(id, after: session.mirroredUpTo, limit: Self.mirrorPage)
            deliver(page, to: session)
            if page.count < Self.mirrorPage { break }
        }
        guard session.owner != nil, !session.disposed else { return }
        let record = try await store.get(id)
        session.info.agentSessionId = record?.agentSessionId ?? session.info.agentSessionId
        session.info.model = record?.model ?? session.info.model
        session.queue = try await store.queuedMessages(id)
        session.info.queuedMessages = session.queue.count
        try reserveLiveSlot()
        defer { reservedStarts -= 1 }
        let lock = try configuration.lockDirectory.map { directory throws(SessionError) in
            try SessionLock.acquire(sessionId: id, in: directory)
        }
        let adapter: any AgentAdapter
        do {
            adapter = try await registry.makeAdapter(for: session.info.agentType, timeout: nil)
        } catch {
            lock?.release()
            throw error
        }
        guard session.owner != nil, !session.disposed else {
            await adapter.dispose()
            lock?.release()
            return
        }
        let wasRunning = session.info.status == .running
        session.adapter = adapter
        session.lock = lock
        session.buffer.restore(lastSeq: max(session.mirroredUpTo, session.buffer.newestSeq), tail: [])
        session.owner = nil
        do {
            try await launch(session, isHost: session.info.workspaceName == hostWorkspaceName)
        } catch {
            lock?.release()
            session.owner = former
            session.adapter = MirrorAdapter(owner: former)
            session.disposed = false
            throw error
        }
        logger.notice("session taken over", metadata: ["session": "\(id)", "from": "\(former)", "agent": "\(session.info.agentType)"])
        broadcast(ChatMessage(type: .system, content: "Node \(former) stopped renewing its lease; node \(cluster?.nodeId ?? "?") runs this session now."), in: session)
        if wasRunning {
            broadcast(ChatMessage(type: .error, content: "The turn that was running on node \(former) was cut off when that node stopped."), in: session)
            setStatus(.interrupted, of: session)
        }
        await drainQueue(session)
    }

    /// The sessions whose agent runs here (for the heartbeat), starting ones included.
    func ownedSessionIds() -> Set<String> {
        var ids = Set(startingSessions.keys)
        for (id, session) in sessions where session.owner == nil { ids.insert(id) }
        return ids
    }

    /// Stops the agents of sessions this node no longer holds the lease of, telling their
    /// clients why; nothing is written to their log any more (another node writes it now).
    func stopLostSessions(_ ids: Set<String>, reason: String) async {
        for id in ids.sorted() {
            guard let session = sessions[id], session.owner == nil else { continue }
            logger.warning("session lost", metadata: ["session": "\(id)", "reason": "\(reason)"])
            // From now on this node's frames stay off the log.
            session.owner = "another node"
            await dispose(id, reason: .sessionMoved(reason))
        }
    }

    /// Takes over the sessions whose node is gone: those mirrored here (their clients are
    /// waiting), and those with queued messages (someone is waiting for them).
    func adoptLapsedSessions() async {
        guard let cluster else { return }
        let mirrors = sessions.values.filter { $0.owner != nil && !$0.disposed }
        if !mirrors.isEmpty, let leases = try? await cluster.backplane.leases() {
            let byId = Dictionary(leases.map { ($0.sessionId, $0) }, uniquingKeysWith: { first, _ in first })
            for session in mirrors {
                let lease = byId[session.info.id]
                if let lease, !lease.expired {
                    if lease.owner != cluster.nodeId { session.owner = lease.owner }
                    continue
                }
                do {
                    try await adopt(session)
                } catch {
                    logger.warning("session not taken over", metadata: ["session": "\(session.info.id)", "error": "\(Self.describe(error))"])
                }
            }
        }
        guard let orphaned = try? await cluster.backplane.orphanedQueues() else { return }
        for id in orphaned where sessions[id] == nil {
            do {
                guard let info = try await find(id), let session = sessions[info.id], session.owner == nil else { continue }
                logger.notice("session with queued messages taken over", metadata: ["session": "\(id)"])
                await drainQueue(session)
            } catch {
                logger.warning("queued messages not taken over", metadata: ["session": "\(id)", "error": "\(Self.describe(error))"])
            }
        }
    }

    // MARK: - Placing new sessions

    /// The live node (renewed within a lease) other than this one that runs the fewest
    /// sessions, or `nil` when there is none.
    func leastLoadedNode() async throws -> String? {
        guard let cluster else { return nil }
        let fresh = Int64(cluster.settings.leaseSeconds) * 1000
        return try await cluster.backplane.nodes()
            .filter { $0.nodeId != cluster.nodeId && $0.heartbeatAge < fresh }
            .min { ($0.liveSessions, $0.nodeId) < ($1.liveSessions, $1.nodeId) }?
            .nodeId
    }

    /// Asks `node` to start the session, then mirrors it here.
    func startElsewhere(id: String, _ options: SessionStartOptions, on node: String) async throws -> String {
        guard let cluster else { throw SessionError.liveSessionLimit(configuration.maxLiveSessions ?? 0) }
        var body: [String: JSONValue] = [
            "op": .string("start"), "workspaceName": .string(options.workspaceName), "agentType": .string(options.agentType),
        ]
        for (key, value) in [("agentSessionId", options.agentSessionId), ("model", options.model), ("projectPath", options.projectPath)] {
            if let value { body[key] = .string(value) }
        }
        logger.info("session placed on another node", metadata: ["session": "\(id)", "node": "\(node)"])
        _ = try await cluster.forward(.object(body), sessionId: id, to: node)
        guard let record = try await store.get(id) else {
            throw SessionError(.movedToAnotherNode, "Node \(node) started session \(id), but it is not in the store.")
        }
        return try await mirror(record, owner: node, projectPath: options.projectPath)
    }

    // MARK: - Applying another node's commands

    /// Applies a command another node forwarded for a session that runs here.
    func applyClusterCommand(_ command: ClusterCommand) async -> JSONValue {
        let id = command.sessionId
        let body = command.body
        do {
            if body["op"]?.stringValue == "start" {
                // Placed here by a node that is full: started like a client's own, and not
                // passed on again.
                placedHere.insert(id)
                defer { placedHere.remove(id) }
                try await start(SessionStartOptions(
                    workspaceName: body["workspaceName"]?.stringValue ?? "", agentType: body["agentType"]?.stringValue ?? "",
                    sessionId: id, agentSessionId: body["agentSessionId"]?.stringValue, model: body["model"]?.stringValue,
                    projectPath: body["projectPath"]?.stringValue
                ))
                return ClusterReply.success()
            }
            // Live here and not a mirror: only the owner applies requests.
            guard sessions[id].map({ $0.owner == nil }) == true else {
                throw SessionError(.movedToAnotherNode, "Session \(id) does not run on node \(cluster?.nodeId ?? "?") (any more).")
            }
            switch body["op"]?.stringValue {
            case "send":
                let mode = body["mode"]?.stringValue.flatMap(SendMode.init(rawValue:)) ?? .queue
                let result = try await send(id, text: body["text"]?.stringValue ?? "", mode: mode, clientMessageId: body["clientMessageId"]?.stringValue)
                return ClusterReply.success(.object([
                    "seq": result.seq.map(JSONValue.int) ?? .null, "queueId": result.queueId.map(JSONValue.string) ?? .null,
                    "position": result.position.map(JSONValue.int) ?? .null, "duplicate": .bool(result.duplicate),
                ]))
            case "interrupt":
                await interrupt(id)
            case "setModel":
                try await setModel(id, model: body["model"]?.stringValue ?? "")
            case "cancelQueued":
                try await cancelQueued(id, queueId: body["queueId"]?.stringValue ?? "", by: body["by"]?.stringValue ?? "client")
            case "answer":
                var answers: [String: String] = [:]
                for (question, answer) in body["answers"]?.objectValue ?? [:] { answers[question] = answer.stringValue }
                if answers.isEmpty, let single = body["single"]?.stringValue,
                   let requestId = body["requestId"]?.stringValue, let question = pendingDecision(requestId)?.request.questions.first {
                    answers[question.question] = single
                }
                try await answer(
                    body["requestId"]?.stringValue ?? "", decision: body["decision"]?.stringValue, message: body["message"]?.stringValue,
                    answers: answers, from: body["from"]?.stringValue ?? "node"
                )
            default:
                throw SessionError(.ownerUnreachable, "Node \(cluster?.nodeId ?? "?") does not know the request \(body["op"]?.jsonText ?? "null").")
            }
            return ClusterReply.success()
        } catch {
            return ClusterReply.failure(error)
        }
    }
}

extension SendResult {
    /// A forwarded send's answer.
    init(forwarded value: JSONValue) {
        self.init(
            seq: value["seq"]?.intValue, queueId: value["queueId"]?.stringValue,
            position: value["position"]?.intValue, duplicate: value["duplicate"]?.boolValue ?? false
        )
    }
}

extension SessionManager {
    /// Answers a request of a session another node runs: forwarded to that node. `nil` when
    /// the session runs nowhere else (then the request is stale here).
    func answerElsewhere(
        _ record: DecisionRecord, decision: String?, message: String?, answers: [String: String], from client: String, firstAnswer: String?
    ) async throws -> DecisionResolution? {
        guard let cluster, let lease = try await cluster.backplane.lease(record.sessionId),
              !lease.expired, lease.owner != cluster.nodeId else { return nil }
        var body: [String: JSONValue] = [
            "op": .string("answer"), "requestId": .string(record.id), "from": .string(client),
            "answers": .object(answers.mapValues(JSONValue.string)),
        ]
        if let decision { body["decision"] = .string(decision) }
        if let message { body["message"] = .string(message) }
        if let firstAnswer { body["single"] = .string(firstAnswer) }
        _ = try await cluster.forward(.object(body), sessionId: record.sessionId, to: lease.owner)
        return DecisionResolution(
            requestId: record.id, sessionId: record.sessionId, kind: record.kind, toolName: record.toolName, summary: record.summary,
            decision: decision ?? (answers.isEmpty && firstAnswer == nil ? Decision.deny : Decision.answer), message: message, answers: answers,
            source: .client(client), resolvedAt: Int64(Timestamp.epochMilliseconds())
        )
    }
}
