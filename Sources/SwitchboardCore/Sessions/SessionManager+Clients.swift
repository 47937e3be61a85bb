import Logging
import SwitchboardAdapterAPI

extension SessionManager {
    /// Attaches a client to a live session.
    ///
    /// The client first receives the frames after `resumeFrom` when given — from the ring of
    /// recent frames, and from the event log for older ones (with a notice when the log no
    /// longer keeps some of them) — else every frame the ring keeps; then a `system` message
    /// `Connected to session (status: <status>)`; then every new frame as it happens. A
    /// `resumeFrom` at or beyond the newest frame replays nothing.
    /// - Returns: the client id (`client-<n>`), or `nil` for an unknown session.
    public func connect(_ sessionId: String, client: SessionClient, resumeFrom: Int? = nil) -> String? {
        guard let session = sessions[sessionId] else { return nil }
        let id = "client-\(nextClientNumber)"
        nextClientNumber += 1
        let (replay, missing) = session.buffer.frames(after: resumeFrom)
        // Frames older than the ring's come from the log, before the ring's.
        var fromLog: ClosedRange<Int>?
        if missing, let resumeFrom, resumeFrom + 1 <= session.buffer.oldestSeq - 1 {
            fromLog = (resumeFrom + 1)...(session.buffer.oldestSeq - 1)
        }
        let outbox = ClientOutbox(id: id, allowance: configuration.clientQueueLimit, replay: replay.count + 2)
        _ = outbox.enqueue(replay)
        _ = outbox.enqueue(SessionFrame(seq: nil, notice: .connected(status: session.info.status)))
        let prefix = fromLog.map { range in LogReplay(store: store, sessionId: sessionId, range: range).send }
        let delivery = Task {
            if let failure = await outbox.deliver(prefix: prefix, to: client) {
                self.disconnect(sessionId, clientId: id, reason: .sendFailed(failure))
            }
        }
        session.clients.append(ClientEntry(id: id, client: client, outbox: outbox, delivery: delivery))
        return id
    }

    /// Detaches a client: runs its disconnect hook and stops delivering to it.
    public func disconnect(_ sessionId: String, clientId: String, reason: DisconnectReason = .requested) {
        guard let session = sessions[sessionId] else { return }
        removeClient(clientId, from: session, reason: reason)
    }

    func removeClient(_ clientId: String, from session: Session, reason: DisconnectReason) {
        guard let index = session.clients.firstIndex(where: { $0.id == clientId }) else { return }
        let entry = session.clients.remove(at: index)
        entry.outbox.close()
        entry.delivery.cancel()
        entry.client.onDisconnect(reason)
        if session.clients.isEmpty { session.lastClientLeft = Int64(Timestamp.epochMilliseconds()) }
    }

    // MARK: - Queries

    /// The live session with this id, or `nil`.
    public func info(_ sessionId: String) -> SessionInfo? {
        sessions[sessionId]?.info
    }

    /// The status of a live session, or `nil`.
    public func status(_ sessionId: String) -> SessionStatus? {
        sessions[sessionId]?.info.status
    }

    /// The live sessions, all or one workspace's, newest activity first.
    public func list(workspace: String? = nil) -> [SessionInfo] {
        sessions.values.map(\.info)
            .filter { workspace == nil || $0.workspaceName == workspace }
            .sorted { ($0.lastActivity, $0.id) > ($1.lastActivity, $1.id) }
    }

    /// The buffered frames, all or those after `seq`; empty for an unknown session.
    public func messages(_ sessionId: String, after seq: Int? = nil) -> [SessionFrame] {
        guard let session = sessions[sessionId] else { return [] }
        return Array(session.buffer.frames(after: seq).frames)
    }

    /// How many clients are connected; 0 for an unknown session.
    public func clientCount(_ sessionId: String) -> Int {
        sessions[sessionId]?.clients.count ?? 0
    }

    /// Whether any client is connected.
    public func hasClients(_ sessionId: String) -> Bool {
        clientCount(sessionId) > 0
    }

    // MARK: - Finding and restoring

    /// Finds a session by our id or the agent's, restoring it from the store when it is
    /// not live: a live session by id; else a live session whose agent session id is `id`;
    /// else the stored record by our id, then by agent session id — started again with its
    /// stored values (`projectPath`, when given, wins over the stored one).
    /// - Returns: the session, or `nil` when nothing matches.
    public func find(_ id: String, projectPath: String? = nil) async throws -> SessionInfo? {
        if let live = sessions[id] { return live.info }
        if let live = sessions.values.first(where: { $0.info.agentSessionId == id }) { return live.info }
        let stored: SessionRecord?
        if let byId = try await store.get(id) {
            stored = byId
        } else {
            stored = try await store.find(agentSessionId: id)
        }
        guard let record = stored else { return nil }
        let started = try await start(SessionStartOptions(
            workspaceName: record.workspaceName, agentType: record.agentType, sessionId: record.id,
            agentSessionId: record.agentSessionId, model: record.model,
            projectPath: projectPath ?? record.projectPath
        ))
        return sessions[started]?.info
    }

    // MARK: - Disposing

    /// Tells each client it is disconnected, disposes the adapter (its processes are gone
    /// afterwards) and removes the session. The stored record stays, so the session can be
    /// restored later. Unknown ids: no-op.
    public func dispose(_ sessionId: String) async {
        await dispose(sessionId, reason: .sessionDisposed)
    }

    /// Disposes the session, telling its clients `reason`.
    func dispose(_ sessionId: String, reason: DisconnectReason) async {
        guard let session = sessions[sessionId] else { return }
        // A mirror, or a session another node took over: its lease and record are not ours.
        let ownedHere = session.owner == nil
        session.catchUp?.cancel()
        // Clients still see what was pending close; the audit log records it as expired.
        await closeDecisions(in: session, source: .dispose)
        // Every frame made so far is in the log and delivered before the clients go.
        await frameLog.drain()
        guard sessions.removeValue(forKey: sessionId) != nil else { return }
        for entry in session.clients {
            removeClient(entry.id, from: session, reason: reason)
        }
        session.disposed = true
        await session.adapter.dispose()
        // The adapter's stream has finished; whatever was still in flight is ignored.
        session.pump?.cancel()
        await session.pump?.value
        if ownedHere {
            try? await store.touch(sessionId, at: session.info.lastActivity, model: session.info.model)
            await cluster?.release(sessionId)
        }
        session.lock?.release()
        logger.info("session stopped", metadata: ["session": "\(sessionId)"])
    }

    /// Disposes exactly the sessions of one workspace.
    public func disposeWorkspace(_ workspaceName: String) async {
        for id in sessions.values.filter({ $0.info.workspaceName == workspaceName }).map(\.info.id) {
            await dispose(id)
        }
    }

    /// Disposes every session, all at once: each adapter's dispose has its own deadline, so
    /// a plugin that never answers holds up the whole only as long as that deadline.
    public func disposeAll() async {
        await withTaskGroup(of: Void.self) { group in
            for id in Array(sessions.keys) {
                group.addTask { await self.dispose(id) }
            }
        }
    }
}
