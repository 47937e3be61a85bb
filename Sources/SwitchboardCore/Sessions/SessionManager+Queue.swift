import Logging
import SwitchboardAdapterAPI

/// A message sent with a client's id in this run: what became of it, or the send under way
/// (a second send with the same id waits for it).
enum ClientMessageState {
    case sending(OneShot<SendResult>)
    case sent(SendResult)
}

/// How a message is sent while a turn runs.
public enum SendMode: String, Sendable, Hashable, CaseIterable {
    /// Queued; sent when the running turn (and the messages queued before it) have ended.
    case queue
    /// The running turn is interrupted and the message sent at once.
    case interrupt
}

/// What became of a message: sent (the `seq` of its `user` frame) or queued (its `queueId`).
public struct SendResult: Sendable, Hashable {
    /// The `seq` of its `user` frame, when it was sent now.
    public var seq: Int?
    /// Its id in the queue, when it was queued.
    public var queueId: String?
    /// Its place in the queue (1 is next), when it was queued.
    public var position: Int?
    /// Whether a message with the same `clientMessageId` was sent (or queued) before; it was
    /// not sent again, and `seq`/`queueId` are the first one's.
    public var duplicate: Bool

    public init(seq: Int? = nil, queueId: String? = nil, position: Int? = nil, duplicate: Bool = false) {
        self.seq = seq
        self.queueId = queueId
        self.position = position
        self.duplicate = duplicate
    }
}

extension SessionManager {
    // MARK: - Sending

    /// Sends a user message, or queues it while a turn runs.
    ///
    /// - Parameters:
    ///   - mode: ``SendMode/queue`` (the default) queues the message while the agent works (or
    ///     while others wait before it) and sends it when their turns have ended;
    ///     ``SendMode/interrupt`` interrupts the running turn and sends it at once.
    ///   - clientMessageId: the sender's id for the message: a second message with the same id
    ///     in the session is not sent again (also after a restart); its result says
    ///     `duplicate` with the first one's `seq` or `queueId`.
    /// - Throws: ``SessionError`` `notFound`; `queueFull` when the queue already holds
    ///   ``Configuration/queueLimit`` messages; `adapterFailed` when the adapter refuses the
    ///   message (the session ends in `error` and the error is broadcast).
    @discardableResult
    public func send(_ sessionId: String, text: String, mode: SendMode = .queue, clientMessageId: String? = nil) async throws -> SendResult {
        guard let session = sessions[sessionId] else { throw SessionError.notFound(sessionId) }
        if session.owner != nil, let owner = try await route(session) {
            var body: [String: JSONValue] = ["op": .string("send"), "text": .string(text), "mode": .string(mode.rawValue)]
            if let clientMessageId { body["clientMessageId"] = .string(clientMessageId) }
            return SendResult(forwarded: try await forward(.object(body), for: session, to: owner))
        }
        guard let clientMessageId else { return try await deliver(text, mode: mode, clientMessageId: nil, in: session) }
        switch session.clientMessages[clientMessageId] {
        case .sent(let result)?:
            return Self.duplicate(result)
        case .sending(let first)?:
            return Self.duplicate(await first.wait(within: .seconds(60)) ?? SendResult())
        case nil:
            break
        }
        // Claimed before anything suspends: a concurrent send with this id waits for this one.
        let slot = OneShot<SendResult>()
        session.clientMessages[clientMessageId] = .sending(slot)
        let result: SendResult
        do {
            if let earlier = try await store.clientMessage(sessionId, clientMessageId) {
                result = SendResult(seq: earlier.seq, queueId: earlier.queueId)
                session.clientMessages[clientMessageId] = .sent(result)
                slot.set(result)
                return Self.duplicate(result)
            }
            result = try await deliver(text, mode: mode, clientMessageId: clientMessageId, in: session)
        } catch {
            session.clientMessages[clientMessageId] = nil
            slot.set(SendResult())
            throw error
        }
        session.clientMessages[clientMessageId] = .sent(result)
        slot.set(result)
        await remember(ClientMessageRecord(sessionId: sessionId, clientMessageId: clientMessageId, seq: result.seq, queueId: result.queueId), in: session)
        return result
    }

    private static func duplicate(_ result: SendResult) -> SendResult {
        var copy = result
        copy.duplicate = true
        copy.position = nil
        return copy
    }

    /// Sends now, or queues.
    private func deliver(_ text: String, mode: SendMode, clientMessageId: String?, in session: Session) async throws -> SendResult {
        if mode == .interrupt, session.info.status == .running {
            session.queueHolds += 1
            defer { session.queueHolds -= 1 }
            await interrupt(session.info.id)
            guard !session.disposed else { throw SessionError.notFound(session.info.id) }
            return try await dispatch(text, queueId: nil, clientMessageId: clientMessageId, in: session)
        }
        if session.info.status == .running || !session.queue.isEmpty || session.queueHolds > 0 {
            let result = try await enqueue(text, clientMessageId: clientMessageId, in: session)
            await drainQueue(session)
            return result
        }
        return try await dispatch(text, queueId: nil, clientMessageId: clientMessageId, in: session)
    }

    /// Starts a turn with `text`: the `user` frame (with its `queueId`, when it was queued),
    /// status `running`, then the adapter.
    private func dispatch(_ text: String, queueId: String?, clientMessageId: String?, in session: Session) async throws -> SendResult {
        session.awaitedStatus = .running
        session.info.lastError = nil
        var extra: [String: JSONValue] = [:]
        if let queueId { extra["queueId"] = .string(queueId) }
        if let clientMessageId { extra["clientMessageId"] = .string(clientMessageId) }
        let seq = broadcastUser(ChatMessage(type: .user, content: text, extra: extra), in: session)
        setStatus(.running, of: session)
        do {
            try await session.adapter.sendMessage(text)
        } catch {
            let reason = Self.describe(error)
            fail(session, reason)
            throw SessionError(.adapterFailed, reason, cause: error)
        }
        return SendResult(seq: seq)
    }

    private func broadcastUser(_ message: ChatMessage, in session: Session) -> Int? {
        emit(.message(message), in: session)
    }

    // MARK: - The queue

    /// Puts a message at the end of the queue and tells the clients.
    private func enqueue(_ text: String, clientMessageId: String?, in session: Session) async throws -> SendResult {
        guard session.queue.count < configuration.queueLimit else {
            throw SessionError(.queueFull, "The message queue of session \(session.info.id) is full (\(configuration.queueLimit) messages); wait for the agent, or cancel some.")
        }
        let message = QueuedMessage(queueId: Self.newQueueID(), sessionId: session.info.id, content: text,
                                    clientMessageId: clientMessageId, queuedAt: Int64(Timestamp.epochMilliseconds()))
        session.queue.append(message)
        session.info.queuedMessages = session.queue.count
        let position = session.queue.count
        broadcast(.queued(message, position: position), in: session)
        do {
            try await store.enqueueMessage(message)
        } catch {
            broadcast(ChatMessage(type: .error, content: "Queued message \(message.queueId) could not be saved (it is lost if the daemon stops first): \(Self.describe(error))"), in: session)
        }
        return SendResult(queueId: message.queueId, position: position)
    }

    /// Sends the next queued message when the session is free: no turn running, none held.
    func drainQueue(_ session: Session) async {
        guard !session.disposed, session.owner == nil, session.queueHolds == 0, session.info.status != .running,
              session.awaitedStatus == nil, !session.queue.isEmpty else { return }
        let next = session.queue.removeFirst()
        session.info.queuedMessages = session.queue.count
        // Out of the stored queue first: a crash now loses the message rather than sending it twice.
        _ = try? await store.removeQueuedMessage(session.info.id, queueId: next.queueId)
        do {
            let result = try await dispatch(next.content, queueId: next.queueId, clientMessageId: next.clientMessageId, in: session)
            if let id = next.clientMessageId {
                session.clientMessages[id] = .sent(SendResult(seq: result.seq, queueId: next.queueId))
                await remember(ClientMessageRecord(sessionId: session.info.id, clientMessageId: id, seq: result.seq, queueId: next.queueId), in: session)
            }
        } catch {
            logger.warning("queued message not sent", metadata: ["session": "\(session.info.id)", "queueId": "\(next.queueId)"])
        }
    }

    /// Takes a queued message out before it is sent.
    /// - Throws: ``SessionError`` `notFound` for an unknown session, `queuedMessageNotFound`
    ///   when no queued message has the id (sent already, cancelled, or never queued).
    public func cancelQueued(_ sessionId: String, queueId: String, by who: String = "client") async throws {
        guard let session = sessions[sessionId] else {
            guard try await store.get(sessionId) != nil else { throw SessionError.notFound(sessionId) }
            guard try await store.removeQueuedMessage(sessionId, queueId: queueId) else { throw Self.noQueued(queueId, sessionId) }
            return
        }
        if session.owner != nil, let owner = try await route(session) {
            _ = try await forward(.object(["op": .string("cancelQueued"), "queueId": .string(queueId), "by": .string(who)]), for: session, to: owner)
            return
        }
        guard let index = session.queue.firstIndex(where: { $0.queueId == queueId }) else { throw Self.noQueued(queueId, sessionId) }
        session.queue.remove(at: index)
        session.info.queuedMessages = session.queue.count
        broadcast(.cancelled(queueId: queueId, by: who), in: session)
        _ = try? await store.removeQueuedMessage(sessionId, queueId: queueId)
    }

    private static func noQueued(_ queueId: String, _ sessionId: String) -> SessionError {
        SessionError(.queuedMessageNotFound, "Session \(sessionId) has no queued message \(InputText.escaped(queueId, limit: 64)) (it was sent or cancelled already, or never queued).")
    }

    /// The messages waiting in a session's queue, next first (live or only stored).
    public func queuedMessages(_ sessionId: String) async throws -> [QueuedMessage] {
        if let session = sessions[sessionId], session.owner == nil { return session.queue }
        guard try await store.get(sessionId) != nil else { throw SessionError.notFound(sessionId) }
        return try await store.queuedMessages(sessionId)
    }

    /// Restores every stored session that has queued messages and sends the next of each: what
    /// the daemon does at start, so a queue survives a restart.
    /// - Returns: the ids of the sessions restored.
    @discardableResult
    public func resumeQueues() async -> [String] {
        guard let queued = try? await store.queuedMessages(nil) else { return [] }
        var resumed: [String] = []
        for id in Set(queued.map(\.sessionId)).sorted() {
            do {
                guard let info = try await find(id), let session = sessions[info.id] else { continue }
                // Another node runs it: its queue is that node's to send.
                if session.owner != nil {
                    if session.clients.isEmpty { await dispose(info.id) }
                    continue
                }
                resumed.append(info.id)
                await drainQueue(session)
            } catch {
                logger.warning("queued messages not resumed", metadata: ["session": "\(id)", "error": "\(Self.describe(error))"])
            }
        }
        if !resumed.isEmpty { logger.notice("restored \(resumed.count) session(s) with queued messages") }
        return resumed
    }

    /// Records what became of a message with a client's id; a failure is logged.
    private func remember(_ record: ClientMessageRecord, in session: Session) async {
        do {
            try await store.recordClientMessage(record)
        } catch {
            logger.warning("client message id not recorded", metadata: ["session": "\(session.info.id)"])
        }
    }

    /// A new queue id: `q-<epoch ms>-<6 random base-36 characters>`.
    static func newQueueID() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        return "q-\(Timestamp.epochMilliseconds())-\(suffix)"
    }
}
