import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore

/// One WebSocket connection to `/v1/live/{workspace}`: reads the client's frames, drives the
/// session manager, and streams the session's frames back. Frames are compatible with the
/// original system's (see `Docs/Protocol.md`).
final class LiveChatConnection: Sendable {
    /// What the connection's control loop is told from outside the read loop.
    enum Control: Sendable {
        /// The manager detached this client (session disposed): say so, keep the socket.
        case detached(String)
        /// Close the socket with this code and reason.
        case close(WebSocketErrorCode, String)
    }

    private struct State {
        var sessionId: String?
        var clientId: String?
        /// Set while this connection itself detaches, so the hook does not echo it.
        var detaching = false
    }

    let workspace: String
    let manager: SessionManager
    let defaultAgentType: String
    let maxMessageBytes: Int
    /// Hummingbird's writer: the close handshake.
    let outbound: WebSocketOutboundWriter
    /// Every text frame the connection sends, session frames in batches.
    let frames: WebSocketTextWriter
    let logger: Logger
    private let state = Mutex(State())
    private let control: AsyncStream<Control>
    private let controlContinuation: AsyncStream<Control>.Continuation

    init(workspace: String, manager: SessionManager, defaultAgentType: String, maxMessageBytes: Int,
         outbound: WebSocketOutboundWriter, frames: WebSocketTextWriter, logger: Logger) {
        self.workspace = workspace
        self.manager = manager
        self.defaultAgentType = defaultAgentType
        self.maxMessageBytes = maxMessageBytes
        self.outbound = outbound
        self.frames = frames
        self.logger = logger
        (control, controlContinuation) = AsyncStream.makeStream(of: Control.self)
    }

    /// Serves the connection until the client goes away, the server shuts down, or the
    /// manager cuts the client off; then detaches from the session (which lives on).
    func run(inbound: WebSocketInboundStream) async {
        await write(.object([
            "type": .string("connected"),
            "workspaceName": .string(workspace),
            "agentType": .string(defaultAgentType),
            "timestamp": .string(Timestamp.now()),
        ]))
        // On graceful shutdown the WebSocket layer itself sends the close frame and ends
        // `inbound`, which ends the read loop.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.readLoop(inbound) }
            group.addTask { await self.controlLoop() }
            await group.next()
            group.cancelAll()
        }
        await detach()
    }

    // MARK: - Reading

    private func readLoop(_ inbound: WebSocketInboundStream) async {
        var iterator = inbound.makeAsyncIterator()
        var message: [UInt8] = []
        var isText = true
        var tooLarge = false
        do {
            while let frame = try await iterator.next() {
                switch frame.opcode {
                case .text, .binary:
                    message.removeAll(keepingCapacity: true)
                    tooLarge = false
                    isText = frame.opcode == .text
                case .continuation:
                    break
                }
                if !tooLarge {
                    if message.count + frame.data.readableBytes > maxMessageBytes {
                        tooLarge = true
                        message.removeAll()
                    } else {
                        message.append(contentsOf: frame.data.readableBytesView)
                    }
                }
                guard frame.fin else { continue }
                if tooLarge {
                    await sendError("The frame is larger than \(maxMessageBytes) bytes; it was ignored.")
                } else if !isText {
                    await sendError("Binary frames are not supported; send JSON text frames.")
                } else {
                    await handle(message)
                }
            }
        } catch {
            logger.debug("live chat connection ended: \(InputRules.escaped(String(describing: error), limit: 200))")
        }
    }

    private func controlLoop() async {
        for await event in control {
            switch event {
            case .detached(let reason):
                await write(systemFrame(reason))
            case .close(let code, let reason):
                try? await outbound.close(code, reason: Self.closeReason(reason))
                return
            }
        }
    }

    // MARK: - Client frames

    private func handle(_ bytes: [UInt8]) async {
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBufferPointer { try JSONValue(parsing: $0) }
        } catch {
            await sendError("Frames must be JSON objects: \(error)")
            return
        }
        guard let frame = value.objectValue else {
            await sendError("Frames must be JSON objects, not \(value.kindDescription).")
            return
        }
        guard let type = frame["type"]?.stringValue else {
            await sendError("The frame has no 'type'.")
            return
        }
        do {
            switch type {
            case "connect": try await connect(frame)
            case "message": try await message(frame)
            case "cancel_queued": try await cancelQueued(frame)
            case "interrupt": try await interrupt()
            case "set_model": try await setModel(frame)
            case "disconnect": await detach()
            case "permission_response", "question_response": try await respond(frame)
            default:
                await sendError("Unknown frame type \(InputRules.quoted(type)) (known: connect, message, cancel_queued, interrupt, set_model, disconnect, permission_response, question_response).")
            }
        } catch let error as SessionError where [.alreadyResolved, .requestNotFound, .invalidDecision].contains(error.code) {
            await sendError(error.message, code: APIError.from(error).code, requestId: frame["requestId"]?.stringValue)
        } catch let error as SessionError where [.queueFull, .queuedMessageNotFound, .lockedElsewhere].contains(error.code) {
            await sendError(error.message, code: APIError.from(error).code)
        } catch {
            await sendError(Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as APIError: e.message
        case let e as SessionError: e.message
        case let e as AdapterError: e.message
        case let e as RegistryError: e.message
        case let e as SessionStoreError: e.message
        default: String(describing: error)
        }
    }

    private func connect(_ frame: [String: JSONValue]) async throws {
        // Read every field first: a bad frame leaves the current attachment alone.
        let sessionId = try frame.string("sessionId")
        let agentSessionId = try frame.string("agentSessionId")
        let model = try frame.string("model")
        let projectPath = try frame.string("projectPath")
        let agentType = try frame.string("agentType")
        let resumeFrom = try frame.int("resumeFromId")
        if let resumeFrom, resumeFrom < -1 {
            throw APIError.badRequest("'resumeFromId' must be a sequence number (-1 or more), not \(resumeFrom).")
        }
        if let sessionId, let problem = InputRules.sessionIdProblem(sessionId) { throw APIError.badRequest(problem) }
        if let agentType, let problem = InputRules.agentTypeProblem(agentType) { throw APIError.badRequest(problem) }
        await detach()
        if let sessionId, let found = try await manager.find(sessionId, projectPath: projectPath) {
            var info = found
            if let model, model != info.model {
                try await manager.setModel(info.id, model: model)
                info.model = model
            }
            await write(.object([
                "type": .string("session_joined"),
                "sessionId": .string(info.id),
                "status": .string(info.status.rawValue),
                "agentSessionId": SessionJSON.optional(info.agentSessionId),
                "model": SessionJSON.optional(info.model),
                "timestamp": .string(Timestamp.now()),
            ]))
            await attach(info.id, resumeFrom: resumeFrom)
            return
        }
        let id = try await manager.start(SessionStartOptions(
            workspaceName: workspace,
            agentType: agentType ?? defaultAgentType,
            sessionId: sessionId,
            agentSessionId: agentSessionId,
            model: model,
            projectPath: projectPath
        ))
        await write(.object([
            "type": .string("session_started"),
            "sessionId": .string(id),
            "timestamp": .string(Timestamp.now()),
        ]))
        await attach(id, resumeFrom: resumeFrom)
    }

    private func message(_ frame: [String: JSONValue]) async throws {
        guard let content = try frame.string("content"), !content.isEmpty else {
            throw APIError.badRequest("A message frame needs a non-empty 'content'.")
        }
        let named = try frame.string("sessionId")
        if currentSession == nil || (named != nil && named != currentSession) { try await connect(frame) }
        guard let id = currentSession else { throw APIError.badRequest("No session: send a connect frame first.") }
        let (mode, clientMessageId) = try frame.sending()
        if let model = try frame.string("model"), model != (await manager.info(id)?.model) {
            try await manager.setModel(id, model: model)
        }
        let result = try await manager.send(id, text: content, mode: mode, clientMessageId: clientMessageId)
        guard let clientMessageId else { return }
        await write(.object([
            "type": .string("message_accepted"),
            "sessionId": .string(id),
            "clientMessageId": .string(clientMessageId),
            "seq": result.seq.map(JSONValue.int) ?? .null,
            "queueId": SessionJSON.optional(result.queueId),
            "duplicate": .bool(result.duplicate),
            "position": result.position.map(JSONValue.int) ?? .null,
            "timestamp": .string(Timestamp.now()),
        ]))
    }

    /// `cancel_queued`: takes a queued message of the attached session out of its queue.
    private func cancelQueued(_ frame: [String: JSONValue]) async throws {
        guard let id = currentSession else { throw APIError.badRequest("No session: send a connect frame first.") }
        guard let queueId = try frame.string("queueId"), !queueId.isEmpty else {
            throw APIError.badRequest("cancel_queued needs the 'queueId' of the queued message.")
        }
        let who = state.withLock { $0.clientId } ?? "ws"
        try await manager.cancelQueued(id, queueId: queueId, by: who)
    }

    private func interrupt() async throws {
        guard let id = currentSession else { throw APIError.badRequest("No session to interrupt: send a connect frame first.") }
        await manager.interrupt(id)
    }

    private func setModel(_ frame: [String: JSONValue]) async throws {
        guard let id = currentSession else { throw APIError.badRequest("No session: send a connect frame first.") }
        guard let model = try frame.string("model"), !model.isEmpty else { throw APIError.badRequest("set_model needs a 'model'.") }
        try await manager.setModel(id, model: model)
        await write(systemFrame("Model set to: \(model)"))
    }

    /// `permission_response` / `question_response`: answers a decision request of any session.
    /// The resolution reaches the session's clients; a connection attached elsewhere gets
    /// it too, without a `seq`.
    private func respond(_ frame: [String: JSONValue]) async throws {
        guard let requestId = try frame.string("requestId"), !requestId.isEmpty else {
            throw APIError.badRequest("A response needs the 'requestId' of the request it answers.")
        }
        if let problem = InputRules.requestIdProblem(requestId) { throw APIError.badRequest(problem) }
        let parsed = try frame.decisionAnswer()
        let answers = await Self.answers(parsed.answers, single: parsed.single, for: requestId, manager: manager)
        let who = state.withLock { $0.clientId } ?? "ws"
        let resolution = try await manager.answer(requestId, decision: parsed.decision, message: parsed.message, answers: answers, from: who, firstAnswer: parsed.single)
        if resolution.sessionId != currentSession {
            await write(SessionFrame(seq: nil, decision: .resolved(resolution)).wireText)
        }
    }

    /// The answers of a response: `answers` as given, or the one `answer` as the answer to
    /// the request's only (first) question.
    static func answers(_ answers: [String: String], single: String?, for requestId: String, manager: SessionManager) async -> [String: String] {
        guard let single, answers.isEmpty, let question = await manager.pendingDecision(requestId)?.request.questions.first else {
            return answers
        }
        return [question.question: single]
    }

    // MARK: - Attaching to a session

    private var currentSession: String? { state.withLock { $0.sessionId } }

    private func attach(_ sessionId: String, resumeFrom: Int?) async {
        let writer = self.frames
        let client = SessionClient(
            send: { frame in try await writer.write(SessionJSON.frame(frame)) },
            sendBatch: { frames in try await writer.write(frames.lazy.map(SessionJSON.frame)) },
            onDisconnect: { [weak self] reason in self?.clientWasDisconnected(reason) }
        )
        let clientId = await manager.connect(sessionId, client: client, resumeFrom: resumeFrom)
        state.withLock { $0.sessionId = sessionId; $0.clientId = clientId }
    }

    private func detach() async {
        let current = state.withLock { s -> (String, String)? in
            guard let session = s.sessionId, let client = s.clientId else { return nil }
            s.detaching = true
            return (session, client)
        }
        guard let (sessionId, clientId) = current else { return }
        await manager.disconnect(sessionId, clientId: clientId)
        state.withLock { $0 = State() }
    }

    /// The manager's hook: the session was disposed, or this client fell too far behind.
    private func clientWasDisconnected(_ reason: DisconnectReason) {
        let selfInitiated = state.withLock { s -> Bool in
            let mine = s.detaching
            s = State()
            return mine
        }
        guard !selfInitiated else { return }
        switch reason {
        case .sessionDisposed, .sessionMoved:
            // The connection stays: the client may connect again (to where the session runs now).
            controlContinuation.yield(.detached(reason.description))
        default:
            controlContinuation.yield(.close(.policyViolation, reason.description))
        }
    }

    // MARK: - Writing

    /// A WebSocket close reason holds at most 123 bytes of UTF-8.
    static func closeReason(_ text: String) -> String {
        guard text.utf8.count > 123 else { return text }
        var cut = ""
        for character in text {
            if cut.utf8.count + String(character).utf8.count > 120 { break }
            cut.append(character)
        }
        return cut + "…"
    }

    private func systemFrame(_ text: String) -> JSONValue {
        .object(["type": .string("system"), "content": .string(text), "timestamp": .string(Timestamp.now())])
    }

    private func sendError(_ text: String, code: String? = nil, requestId: String? = nil) async {
        var object: [String: JSONValue] = ["type": .string("error"), "content": .string(text), "timestamp": .string(Timestamp.now())]
        if let code { object["code"] = .string(code) }
        if let requestId { object["requestId"] = .string(requestId) }
        await write(.object(object))
    }

    private func write(_ value: JSONValue) async {
        await write(value.jsonText)
    }

    private func write(_ text: String) async {
        do {
            try await frames.write(text)
        } catch {
            logger.debug("live chat write failed: \(InputRules.escaped(String(describing: error), limit: 200))")
        }
    }
}
