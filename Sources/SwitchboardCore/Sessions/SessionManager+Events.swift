import Logging
import SwitchboardAdapterAPI

extension SessionManager {
    /// Applies adapter events to their session, in order. Not inlined into the session's
    /// pump: the pump task waits with only its own small frame (an idle session's memory).
    @inline(never)
    func handle(_ events: [AdapterEvent], in session: Session) async {
        for event in events {
            await handle(event, in: session)
        }
    }

    /// Applies one adapter event to its session.
    @inline(never)
    func handle(_ event: AdapterEvent, in session: Session) async {
        guard !session.disposed else { return }
        session.info.lastActivity = Int64(Timestamp.epochMilliseconds())
        switch event {
        case .message(let message):
            // An adapter that ends a turn with an `error` message names the reason there.
            if message.type == .error { session.info.lastError = message.content }
            broadcast(message, in: session)
        case .status(let status, let agentSessionId):
            if let awaited = session.awaitedStatus {
                if status == awaited { session.awaitedStatus = nil }
            } else {
                setStatus(status, of: session)
            }
            if status == .error && session.info.lastError == nil { session.info.lastError = "The agent reported an error." }
            if let agentSessionId, agentSessionId != session.info.agentSessionId {
                await link(session, to: agentSessionId)
            }
            if session.awaitedStatus == nil && status != .running {
                await persistActivity(of: session)
            }
            // A turn that ended leaves nothing to decide; the next queued message goes.
            if status != .running {
                await closeDecisions(in: session, source: .turnEnded)
                await drainQueue(session)
            }
        case .error(let text):
            fail(session, text)
            await closeDecisions(in: session, source: .turnEnded)
            await drainQueue(session)
        case .decisionRequested(let request):
            await openDecision(request, in: session)
        case .decisionWithdrawn(let id, let reason):
            await withdrawDecision(id, reason: reason, in: session)
        }
    }

    /// Records the agent's session id, links it in the store, and tells the clients.
    private func link(_ session: Session, to agentSessionId: String) async {
        session.info.agentSessionId = agentSessionId
        do {
            try await store.linkAgentSession(session.info.id, agentSessionId: agentSessionId, at: session.info.lastActivity)
        } catch {
            broadcast(ChatMessage(type: .error, content: "Could not record the agent session id: \(Self.describe(error))"), in: session)
        }
        broadcast(.agentSessionId(agentSessionId), in: session)
    }

    /// Changes the status and, when it changed, tells the clients with a `system` notice
    /// `{"status":"<status>"}`.
    func setStatus(_ status: SessionStatus, of session: Session) {
        guard !session.disposed, session.info.status != status else { return }
        session.info.status = status
        broadcast(.status(status), in: session)
    }

    /// Ends the turn in `error`, records why, and broadcasts it.
    func fail(_ session: Session, _ reason: String) {
        guard !session.disposed else { return }
        logger.warning("session error", metadata: ["session": "\(session.info.id)", "error": "\(reason)"])
        session.awaitedStatus = nil
        session.info.lastError = reason
        broadcast(ChatMessage(type: .error, content: reason), in: session)
        setStatus(.error, of: session)
    }

    /// Saves the last activity (and model); a failure is reported to the clients, not thrown.
    func persistActivity(of session: Session) async {
        do {
            try await store.touch(session.info.id, at: session.info.lastActivity, model: session.info.model)
        } catch {
            broadcast(ChatMessage(type: .error, content: "Could not save the session: \(Self.describe(error))"), in: session)
        }
    }

    /// Numbers `message` and sends it on its way to every client (through the event log).
    func broadcast(_ message: ChatMessage, in session: Session) {
        emit(.message(message), in: session)
    }

    /// Numbers `notice` and sends it on its way to every client (through the event log).
    func broadcast(_ notice: SessionNotice, in session: Session) {
        emit(.notice(notice), in: session)
    }

    /// Numbers a decision frame and sends it on its way to every client (through the event log).
    func broadcast(_ decision: DecisionFrame, in session: Session) {
        emit(.decision(decision), in: session)
    }

    /// Numbers a queue frame and sends it on its way to every client (through the event log).
    func broadcast(_ queue: QueueFrame, in session: Session) {
        emit(.queue(queue), in: session)
    }

    /// Makes the session's next frame and submits it to the event log; it reaches the ring
    /// and the clients when the log has it (``committed(_:error:)``).
    /// - Returns: the frame's `seq`, or `nil` when the session was disposed.
    @discardableResult
    func emit(_ content: SessionFrame.Content, in session: Session) -> Int? {
        guard !session.disposed else { return nil }
        // A mirror's log is the owner's: what it says itself reaches its own clients only.
        if session.owner != nil {
            fanOut([SessionFrame(seq: nil, content: content)][...], in: session)
            return nil
        }
        let now = Int64(Timestamp.epochMilliseconds())
        session.info.lastActivity = now
        let seq = session.buffer.reserveSeq()
        let frame = SessionFrame(seq: seq, content: content)
        session.uncommitted.append(frame)
        if let logged = frame.logged(in: session.info.id, at: now) { frameLog.submit(logged) }
        return seq
    }

    /// The event log has the sessions' frames up to the given `seq`s (or failed to write them,
    /// which clients are told once): they go into the ring and to every client, in order.
    func committed(_ commit: FrameLog.Commit, error: (any Error)?) {
        for (sessionId, upTo) in commit {
            guard let session = sessions[sessionId] ?? startingSessions[sessionId] else { continue }
            var count = 0
            while count < session.uncommitted.count, let seq = session.uncommitted[count].seq, seq <= upTo { count += 1 }
            let ready: [SessionFrame]
            if count == session.uncommitted.count {
                ready = session.uncommitted
                session.uncommitted = []
            } else {
                ready = Array(session.uncommitted.prefix(count))
                session.uncommitted.removeFirst(count)
            }
            for frame in ready { session.buffer.keep(frame) }
            fanOut(ready[...], in: session)
            if let error, !session.logFailing {
                session.logFailing = true
                logger.error("event log write failed", metadata: ["session": "\(sessionId)", "error": "\(Self.describe(error))"])
                // Not a logged frame: it would fail the same way.
                fanOut([SessionFrame(seq: nil, message: ChatMessage(type: .error, content: "The session's history could not be written: \(Self.describe(error)) Frames are delivered but not kept."))][...], in: session)
            } else if error == nil {
                session.logFailing = false
            }
        }
    }

    /// Queues `frames` for every client of the session, each client's in one step; one that
    /// is too far behind is cut off.
    func fanOut(_ frames: ArraySlice<SessionFrame>, in session: Session) {
        guard !frames.isEmpty else { return }
        var behind: [ClientEntry] = []
        for entry in session.clients where !entry.outbox.enqueue(frames) {
            behind.append(entry)
        }
        for entry in behind {
            removeClient(entry.id, from: session, reason: .fellBehind(allowance: entry.outbox.allowance))
        }
    }
}
