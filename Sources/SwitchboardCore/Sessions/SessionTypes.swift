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
    /// How many messages wait in its queue.
    public var queuedMessages: Int = 0
}

/// A client attached to a session: where its frames go and what to do when it is cut off.
public struct SessionClient: Sendable {
    /// Delivers one frame. Frames arrive one at a time, in order; a throw disconnects the
    /// client (the others are unaffected).
    public var send: @Sendable (SessionFrame) async throws -> Void
    /// Delivers several frames, in order, when given: the live frames come this way, as many
    /// as have gathered since the last call (a client that writes to a socket can write them
    /// all and flush once). Without it each goes through ``send``. A throw disconnects the client.
    public var sendBatch: (@Sendable (ArraySlice<SessionFrame>) async throws -> Void)?
    /// Called once when the client is disconnected — by ``SessionManager/disconnect(_:clientId:reason:)``,
    /// because the session was disposed, or because the client fell too far behind — with the reason.
    public var onDisconnect: @Sendable (DisconnectReason) -> Void

    public init(
        send: @escaping @Sendable (SessionFrame) async throws -> Void,
        sendBatch: (@Sendable (ArraySlice<SessionFrame>) async throws -> Void)? = nil,
        onDisconnect: @escaping @Sendable (DisconnectReason) -> Void = { _ in }
    ) {
        self.send = send
        self.sendBatch = sendBatch
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
    /// Another process using the same state directory runs the session.
    public static var lockedElsewhere: Self { Self("lockedElsewhere") }
    /// The session's message queue is full.
    public static var queueFull: Self { Self("queueFull") }
    /// No queued message has the id.
    public static var queuedMessageNotFound: Self { Self("queuedMessageNotFound") }
}
