import Logging
import SwitchboardAdapterAPI

extension SessionManager {
    /// Applies one adapter event to its session.
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
            // A turn that ended leaves nothing to decide.
            if status != .running { await closeDecisions(in: session, source: .agent) }
        case .error(let text):
            fail(session, text)
            await closeDecisions(in: session, source: .agent)
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

    /// Buffers `message` with the next sequence number and queues it for every client.
    func broadcast(_ message: ChatMessage, in session: Session) {
        guard !session.disposed else { return }
        deliver(session.buffer.append(message), in: session)
    }

    /// Buffers `notice` with the next sequence number and queues it for every client.
    func broadcast(_ notice: SessionNotice, in session: Session) {
        guard !session.disposed else { return }
        deliver(session.buffer.append(notice), in: session)
    }

    /// Buffers a decision frame with the next sequence number and queues it for every client.
    func broadcast(_ decision: DecisionFrame, in session: Session) {
        guard !session.disposed else { return }
        deliver(session.buffer.append(decision), in: session)
    }

    private func deliver(_ frame: SessionFrame, in session: Session) {
        session.info.lastActivity = Int64(Timestamp.epochMilliseconds())
        var behind: [ClientEntry] = []
        for entry in session.clients where !entry.outbox.enqueue(frame) {
            behind.append(entry)
        }
        for entry in behind {
            removeClient(entry.id, from: session, reason: .fellBehind(allowance: entry.outbox.allowance))
        }
    }
}
