import SwitchboardAdapterAPI

/// A live session as the manager sees it.
public struct SessionInfo: Sendable, Hashable {
    /// Our session id.
    public var id: String
    /// The workspace (`@host` for the host).
    public var workspaceName: String
    /// The agent type serving it.
    public var agentType: String
    /// The agent's own session id, once known.
    public var agentSessionId: String?
    /// The model chosen for it, if any.
    public var model: String?
    /// The project directory, if any.
    public var projectPath: String?
    /// The container it runs in (`nil` on the host).
    public var containerName: String?
    /// The current status.
    public var status: SessionStatus
    /// When it was created (milliseconds since 1970).
    public var createdAt: Int64
    /// When anything last happened (milliseconds since 1970).
    public var lastActivity: Int64
    /// The last error reported, if the status is `error`.
    public var lastError: String?
    /// How many decision requests wait for a person.
    public var pendingDecisions: Int = 0
}

/// One frame a client receives from a session: a chat message and its sequence number.
///
/// Sequence numbers are per session, start at 0 and only grow; a client that reconnects
/// with the last one it saw receives exactly what it missed. The per-connection
/// "Connected to session" notice is the only frame without one.
public struct SessionFrame: Sendable, Hashable {
    /// The frame's sequence number; `nil` for the per-connection notices.
    public var seq: Int?
    /// What the session manager itself says, when the frame is one of its notices.
    public let notice: SessionNotice?
    /// A decision request or its resolution, when the frame is about one.
    public let decision: DecisionFrame?
    private let body: ChatMessage

    /// A frame carrying a chat message.
    public init(seq: Int?, message: ChatMessage) {
        self.seq = seq
        self.notice = nil
        self.decision = nil
        self.body = message
    }

    /// A frame carrying a notice of the session manager.
    public init(seq: Int?, notice: SessionNotice, timestamp: String = Timestamp.now()) {
        self.seq = seq
        self.notice = notice
        self.decision = nil
        self.body = ChatMessage(type: .system, content: "", timestamp: timestamp)
    }

    /// A frame about a decision request.
    public init(seq: Int?, decision: DecisionFrame, timestamp: String = Timestamp.now()) {
        self.seq = seq
        self.notice = nil
        self.decision = decision
        self.body = ChatMessage(type: .system, content: "", timestamp: timestamp)
    }

    /// The frame as a chat message: a notice becomes the `system` message wire clients
    /// receive, with its ``SessionNotice/wireText``; a decision frame a `system` message with
    /// its ``DecisionFrame/text`` (wire clients get the decision frames themselves).
    public var message: ChatMessage {
        if let notice {
            var message = body
            message.content = notice.wireText
            return message
        }
        if let decision {
            var message = body
            message.content = decision.text
            return message
        }
        return body
    }

    /// When the frame was made.
    public var timestamp: String { body.timestamp }
}

/// A client attached to a session: where its frames go and what to do when it is cut off.
public struct SessionClient: Sendable {
    /// Delivers one frame. Frames arrive one at a time, in order; a throw disconnects the
    /// client (the others are unaffected).
    public var send: @Sendable (SessionFrame) async throws -> Void
    /// Called once when the client is disconnected — by ``SessionManager/disconnect(_:clientId:reason:)``,
    /// because the session was disposed, or because the client fell too far behind — with the reason.
    public var onDisconnect: @Sendable (DisconnectReason) -> Void

    public init(
        send: @escaping @Sendable (SessionFrame) async throws -> Void,
        onDisconnect: @escaping @Sendable (DisconnectReason) -> Void = { _ in }
    ) {
        self.send = send
        self.onDisconnect = onDisconnect
    }
}

/// What `start` needs.
public struct SessionStartOptions: Sendable, Hashable {
    /// The workspace; `@host` runs the agent on this machine.
    public var workspaceName: String
    /// The agent type.
    public var agentType: String
    /// Our session id to use; a new one is made when absent.
    public var sessionId: String?
    /// The agent's own session id to resume.
    public var agentSessionId: String?
    /// The model.
    public var model: String?
    /// The project directory.
    public var projectPath: String?

    public init(workspaceName: String, agentType: String, sessionId: String? = nil, agentSessionId: String? = nil, model: String? = nil, projectPath: String? = nil) {
        self.workspaceName = workspaceName
        self.agentType = agentType
        self.sessionId = sessionId
        self.agentSessionId = agentSessionId
        self.model = model
        self.projectPath = projectPath
    }
}

/// The domain of ``SessionError``: failures of the session manager.
public enum SessionErrorDomain {}

/// A session manager failure with the message clients see.
public typealias SessionError = SwitchboardError<SessionErrorDomain>

extension SwitchboardError where Domain == SessionErrorDomain {
    static func notFound(_ id: String) -> SessionError { SessionError(.notFound, "Session not found: \(id)") }
    static var busy: SessionError { SessionError(.busy, "Session is already processing a message") }
}

/// The name of the host workspace.
public let hostWorkspaceName = "@host"

extension ErrorCode where Domain == SessionErrorDomain {
    /// No session has the id.
    public static var notFound: Self { Self("notFound") }
    /// The session is running a turn.
    public static var busy: Self { Self("busy") }
    /// The host workspace is not allowed on this server.
    public static var hostWorkspaceDisabled: Self { Self("hostWorkspaceDisabled") }
    /// The session could not be started.
    public static var startFailed: Self { Self("startFailed") }
    /// The adapter failed a request; the cause, when set, is the adapter's error.
    public static var adapterFailed: Self { Self("adapterFailed") }
    /// No decision request has the id.
    public static var requestNotFound: Self { Self("requestNotFound") }
    /// The decision request was decided already (or withdrawn).
    public static var alreadyResolved: Self { Self("alreadyResolved") }
    /// The answer does not fit the request (a decision not among its options).
    public static var invalidDecision: Self { Self("invalidDecision") }
}
