import Logging
import SwitchboardAdapterAPI

/// A decision request waiting in a session, with what the audit log holds of it and the
/// timer that decides it when nobody does.
final class OpenDecision {
    let pending: PendingDecision
    let record: DecisionRecord
    var timer: Task<Void, Never>?

    init(pending: PendingDecision, record: DecisionRecord) {
        self.pending = pending
        self.record = record
    }
}

extension SessionManager {
    // MARK: - Asking

    /// An adapter asked for a decision: refuse a malformed or repeated request, let the rules
    /// decide it, or show it to every client and wait for the first valid answer.
    func openDecision(_ request: DecisionRequest, in session: Session) async {
        if let problem = request.problem {
            await refuse(request, "The agent sent a decision request that cannot be used (\(problem)); it was refused.", in: session)
            return
        }
        guard session.askedIDs.insert(request.id).inserted else {
            logger.warning("repeated decision request id", metadata: ["session": "\(session.info.id)"])
            await refuse(request, "The agent asked again with request id '\(InputText.escaped(request.id))', which it used already; the repeated request was refused.", in: session)
            return
        }
        let now = Int64(Timestamp.epochMilliseconds())
        let policy = configuration.approvals
        let timeoutMilliseconds = Self.milliseconds(policy.timeout)
        let pending = PendingDecision(
            requestId: Self.newRequestID(), sessionId: session.info.id, agentType: session.info.agentType,
            request: request, requestedAt: now, expiresAt: now.addingReportingOverflow(timeoutMilliseconds).partialValue
        )
        let record = DecisionRecord(pending)
        switch policy.evaluate(request, agentType: session.info.agentType) {
        case .decided(let decision, let message, let rule):
            let resolution = DecisionResolution(
                requestId: pending.requestId, sessionId: session.info.id, kind: request.kind, toolName: request.toolName,
                summary: request.summary, decision: decision, message: message,
                source: rule.map(DecisionSource.rule) ?? .defaultPolicy, resolvedAt: now
            )
            await persist(record.closed(by: resolution), new: true, in: session)
            logDecision(resolution)
            broadcast(.resolved(resolution), in: session)
            await pass(DecisionAnswer(id: request.id, decision: decision, message: message), for: resolution, in: session)
        case .ask:
            // Recorded before anyone can know its id, so no answer can overtake the record.
            await persist(record, new: true, in: session)
            guard !session.disposed else { return }
            let open = OpenDecision(pending: pending, record: record)
            session.decisions[pending.requestId] = open
            session.decisionIDs[request.id] = pending.requestId
            session.info.pendingDecisions = session.decisions.count
            decisionSessions[pending.requestId] = session.info.id
            logger.info("decision requested", metadata: [
                "session": "\(session.info.id)", "request": "\(pending.requestId)", "tool": "\(InputText.escaped(request.toolName))",
            ])
            broadcast(.requested(pending), in: session)
            let requestId = pending.requestId
            open.timer = Task { [weak self] in
                do { try await Task.sleep(for: policy.timeout) } catch { return }
                await self?.decisionTimedOut(requestId)
            }
        }
    }

    /// Tells the clients why `request` is not shown, and answers it `deny` (when the agent
    /// takes a deny) so the agent does not wait for an answer that would never come.
    private func refuse(_ request: DecisionRequest, _ reason: String, in session: Session) async {
        broadcast(ChatMessage(type: .error, content: reason), in: session)
        guard request.options.contains(Decision.deny), !request.id.isEmpty, request.id.utf8.count <= 128 else { return }
        do {
            try await session.adapter.answer(DecisionAnswer(id: request.id, decision: Decision.deny, message: reason))
        } catch {
            logger.warning("refused decision request not answered", metadata: ["session": "\(session.info.id)"])
        }
    }

    // MARK: - Answering

    /// Answers a pending request. The first valid answer wins: it is passed to the agent
    /// exactly once and every client of the session gets the resolution.
    ///
    /// - Parameters:
    ///   - decision: one of the request's options; for a question `answer` (the default
    ///     when `answers` are given) or `deny`.
    ///   - message: sent to the agent with a `deny`.
    ///   - answers: a question's answers, question text → answer.
    ///   - client: who answers (a connection id, `http`), for the clients and the audit log.
    /// - Throws: ``SessionError`` `requestNotFound` for an unknown id, `alreadyResolved` for a
    ///   request closed already (naming how), `invalidDecision` for an answer that does not
    ///   fit; nothing changes then.
    @discardableResult
    public func answer(
        _ requestId: String, decision: String?, message: String? = nil, answers: [String: String] = [:], from client: String,
        firstAnswer: String? = nil
    ) async throws -> DecisionResolution {
        guard let sessionId = decisionSessions[requestId], let session = sessions[sessionId],
              let open = session.decisions[requestId] else {
            if let record = try await store.decision(requestId) {
                if record.state == .pending, let forwarded = try await answerElsewhere(
                    record, decision: decision, message: message, answers: answers, from: client, firstAnswer: firstAnswer
                ) {
                    return forwarded
                }
                let how = record.state == .pending
                    ? "its session is not running"
                    : "\(record.decision ?? "?") by \(record.source?.description ?? "?")"
                throw SessionError(.alreadyResolved, "Request \(requestId) was already resolved (\(how)).")
            }
            throw SessionError(.requestNotFound, "No decision request has the id \(requestId).")
        }
        let answer = try Self.validate(decision: decision, message: message, answers: answers, for: open.pending)
        take(open, from: session)
        let resolution = DecisionResolution(
            requestId: requestId, sessionId: sessionId, kind: open.pending.request.kind, toolName: open.pending.request.toolName,
            summary: open.pending.request.summary, decision: answer.decision, message: answer.message, answers: answer.answers,
            source: .client(client), resolvedAt: Int64(Timestamp.epochMilliseconds())
        )
        logDecision(resolution)
        broadcast(.resolved(resolution), in: session)
        await persist(open.record.closed(by: resolution), new: false, in: session)
        await pass(answer, for: resolution, in: session)
        return resolution
    }

    /// The answer for the agent, or the reason it does not fit `pending`.
    static func validate(decision: String?, message: String?, answers: [String: String], for pending: PendingDecision) throws(SessionError) -> DecisionAnswer {
        let request = pending.request
        func invalid(_ reason: String) -> SessionError {
            SessionError(.invalidDecision, "Request \(pending.requestId): \(reason)")
        }
        if let message, message.utf8.count > 10_000 { throw invalid("the message is longer than 10000 bytes.") }
        let options = request.options.joined(separator: ", ")
        switch request.kind {
        case .permission:
            guard let decision else { throw invalid("the answer has no 'decision' (one of: \(options)).") }
            guard request.options.contains(decision) else {
                throw invalid("'\(InputText.escaped(decision, limit: 64))' is not one of its options (\(options)).")
            }
            return DecisionAnswer(id: request.id, decision: decision, message: decision == Decision.deny ? message : nil)
        case .question:
            let chosen = decision ?? Decision.answer
            guard request.options.contains(chosen) else {
                throw invalid("'\(InputText.escaped(chosen, limit: 64))' is not one of its options (\(options)).")
            }
            guard chosen == Decision.answer else { return DecisionAnswer(id: request.id, decision: chosen, message: message) }
            guard !answers.isEmpty else { throw invalid("the answer has no 'answers' (question → answer).") }
            let questions = Set(request.questions.map(\.question))
            for (question, text) in answers {
                guard questions.contains(question) else {
                    throw invalid("it asked no question '\(InputText.escaped(question, limit: 80))'.")
                }
                guard !text.isEmpty, text.utf8.count <= 10_000 else {
                    throw invalid("the answer to '\(InputText.escaped(question, limit: 80))' must be 1 to 10000 bytes.")
                }
            }
            return DecisionAnswer(id: request.id, decision: chosen, answers: answers)
        }
    }

    // MARK: - Closing without a person

    /// Nobody answered in time: the policy's `onTimeout` decides.
    func decisionTimedOut(_ requestId: String) async {
        guard let sessionId = decisionSessions[requestId], let session = sessions[sessionId],
              let open = session.decisions[requestId] else { return }
        let request = open.pending.request
        let wanted = configuration.approvals.onTimeout.rawValue
        let decision = request.kind == .permission && request.options.contains(wanted) ? wanted : Decision.deny
        guard request.options.contains(decision) else {
            // The agent takes no deny either: close it; the agent's own end of the turn follows.
            take(open, from: session)
            await close(open, in: session, source: .timeout)
            return
        }
        take(open, from: session)
        let message = decision == Decision.deny ? "Nobody decided within \(configuration.approvals.timeout)." : nil
        let resolution = DecisionResolution(
            requestId: requestId, sessionId: sessionId, kind: request.kind, toolName: request.toolName, summary: request.summary,
            decision: decision, message: message, source: .timeout, resolvedAt: Int64(Timestamp.epochMilliseconds())
        )
        logDecision(resolution)
        broadcast(.resolved(resolution), in: session)
        await persist(open.record.closed(by: resolution), new: false, in: session)
        await pass(DecisionAnswer(id: request.id, decision: decision, message: message), for: resolution, in: session)
    }

    /// The adapter withdrew a request (interrupt, end of turn, the agent's own choice).
    func withdrawDecision(_ pluginId: String, reason: DecisionWithdrawal, in session: Session) async {
        guard let requestId = session.decisionIDs[pluginId], let open = session.decisions[requestId] else { return }
        take(open, from: session)
        let source: DecisionSource = switch reason {
        case .interrupt: .interrupt
        case .dispose: .dispose
        case .turnEnded: .turnEnded
        case .agent: .agent
        }
        await close(open, in: session, source: source)
    }

    /// Closes every open request of `session` without an answer for the agent.
    func closeDecisions(in session: Session, source: DecisionSource) async {
        let open = session.decisions.values.sorted { $0.pending.requestedAt < $1.pending.requestedAt }
        for decision in open { take(decision, from: session) }
        for decision in open { await close(decision, in: session, source: source) }
    }

    /// Tells the clients and the audit log that `open` was closed with no decision.
    private func close(_ open: OpenDecision, in session: Session, source: DecisionSource) async {
        let request = open.pending.request
        let resolution = DecisionResolution(
            requestId: open.pending.requestId, sessionId: session.info.id, kind: request.kind, toolName: request.toolName,
            summary: request.summary, decision: DecisionResolution.cancelled, source: source,
            resolvedAt: Int64(Timestamp.epochMilliseconds())
        )
        logDecision(resolution)
        broadcast(.resolved(resolution), in: session)
        await persist(open.record.closed(by: resolution), new: false, in: session)
    }

    /// Removes `open` from the session's table (synchronously, so exactly one caller wins).
    private func take(_ open: OpenDecision, from session: Session) {
        open.timer?.cancel()
        session.decisions[open.pending.requestId] = nil
        session.decisionIDs[open.pending.request.id] = nil
        session.info.pendingDecisions = session.decisions.count
        decisionSessions[open.pending.requestId] = nil
    }

    // MARK: - Queries

    /// The requests waiting for a person, oldest first: of one session, or of all.
    public func pendingDecisions(session sessionId: String? = nil) -> [PendingDecision] {
        let scope = sessionId.map { id in sessions[id].map { [$0] } ?? [] } ?? Array(sessions.values)
        return scope.flatMap { $0.decisions.values.map(\.pending) }.sorted { ($0.requestedAt, $0.requestId) < ($1.requestedAt, $1.requestId) }
    }

    /// The pending request with this id, or `nil`.
    public func pendingDecision(_ requestId: String) -> PendingDecision? {
        guard let sessionId = decisionSessions[requestId] else { return nil }
        return sessions[sessionId]?.decisions[requestId]?.pending
    }

    /// Marks requests a previous run left pending as expired (by `restart`); the daemon
    /// calls it once at start, before it serves.
    /// - Returns: how many there were.
    @discardableResult
    public func expireStaleDecisions() async throws -> Int {
        try await store.expirePendingDecisions(at: Int64(Timestamp.epochMilliseconds()))
    }

    // MARK: - Helpers

    /// Passes an answer to the adapter; a failure is told to the clients.
    private func pass(_ answer: DecisionAnswer, for resolution: DecisionResolution, in session: Session) async {
        do {
            try await session.adapter.answer(answer)
        } catch {
            logger.warning("decision not delivered", metadata: ["session": "\(session.info.id)", "request": "\(resolution.requestId)"])
            broadcast(ChatMessage(type: .error, content: "The decision on request \(resolution.requestId) did not reach the agent: \(Self.describe(error))"), in: session)
        }
    }

    /// Writes to the audit log; a failure is told to the clients, never thrown.
    private func persist(_ record: DecisionRecord, new: Bool, in session: Session) async {
        do {
            if new { try await store.recordDecision(record) } else { _ = try await store.closeDecision(record) }
        } catch {
            logger.error("audit log write failed", metadata: ["session": "\(session.info.id)", "request": "\(record.id)"])
            broadcast(ChatMessage(type: .error, content: "Could not record decision request \(record.id) in the audit log: \(Self.describe(error))"), in: session)
        }
    }

    private func logDecision(_ resolution: DecisionResolution) {
        logger.info("decision", metadata: [
            "session": "\(resolution.sessionId)", "request": "\(resolution.requestId)",
            "decision": "\(resolution.decision)", "by": "\(resolution.source)",
        ])
    }

    /// A new request id: `req-<epoch ms>-<8 random base-36 characters>`.
    static func newRequestID() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        return "req-\(Timestamp.epochMilliseconds())-\(suffix)"
    }

    /// A duration in whole milliseconds, saturating.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int64.max : ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000).partialValue
    }
}
