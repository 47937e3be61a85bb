/// One session frame as the event log keeps it: its `seq`, what kind of frame it is, and its
/// wire JSON (the very text clients receive).
public struct LoggedFrame: Sendable, Hashable {
    /// What kind of frame it is, so it reads back typed.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A chat message (`user`, `assistant`, `tool_use`, …).
        case message = "m"
        /// A notice of the session manager (`{"status":…}`, `{"agentSessionId":…}`).
        case notice = "n"
        /// A decision frame (`permission_request`, `permission_resolved`, …).
        case decision = "d"
        /// A queue frame (`queued`, `queue_cancelled`).
        case queue = "q"
    }

    /// The session it belongs to.
    public var sessionId: String
    /// Its sequence number in the session (0 and up, never reused).
    public var seq: Int
    /// What kind of frame it is.
    public var kind: Kind
    /// The frame's wire JSON, `seq` included.
    public var json: String
    /// When it was made, in milliseconds since 1970.
    public var createdAt: Int64

    public init(sessionId: String, seq: Int, kind: Kind, json: String, createdAt: Int64) {
        self.sessionId = sessionId
        self.seq = seq
        self.kind = kind
        self.json = json
        self.createdAt = createdAt
    }

    /// How many bytes of the log it takes (for retention by size).
    public var byteCount: Int { json.utf8.count }
}

/// How much of a session's log is kept (the config's `history`).
public struct HistoryRetention: Sendable, Hashable {
    /// At most this many frames per session (the oldest go first).
    public var maxFramesPerSession: Int
    /// At most this many bytes of frames per session.
    public var maxBytesPerSession: Int
    /// Frames older than this many days go; `nil` keeps them however old.
    public var maxAgeDays: Int?

    /// The defaults: 100,000 frames, 64 MiB, no age limit.
    public init(maxFramesPerSession: Int = 100_000, maxBytesPerSession: Int = 64 << 20, maxAgeDays: Int? = nil) {
        self.maxFramesPerSession = maxFramesPerSession
        self.maxBytesPerSession = maxBytesPerSession
        self.maxAgeDays = maxAgeDays
    }

    /// The largest `maxFramesPerSession`.
    public static let maximumFrames = 100_000_000
    /// The largest `maxBytesPerSession` (64 GiB).
    public static let maximumBytes = 64 << 30
    /// The largest `maxAgeDays` (100 years).
    public static let maximumAgeDays = 36_500
}

/// A message waiting in a session's queue until the running turn ends.
public struct QueuedMessage: Sendable, Hashable {
    /// Its id in the queue (`q-…`).
    public var queueId: String
    /// The session.
    public var sessionId: String
    /// The text to send.
    public var content: String
    /// The sender's id for it, when given (sends are never doubled).
    public var clientMessageId: String?
    /// When it was queued, in milliseconds since 1970.
    public var queuedAt: Int64

    public init(queueId: String, sessionId: String, content: String, clientMessageId: String? = nil, queuedAt: Int64) {
        self.queueId = queueId
        self.sessionId = sessionId
        self.content = content
        self.clientMessageId = clientMessageId
        self.queuedAt = queuedAt
    }
}

/// What became of a message with a `clientMessageId`: sent (the `seq` of its `user` frame)
/// or queued (its `queueId`).
public struct ClientMessageRecord: Sendable, Hashable {
    /// The session.
    public var sessionId: String
    /// The sender's id.
    public var clientMessageId: String
    /// The `seq` of its `user` frame, once sent.
    public var seq: Int?
    /// Its queue id, when it was queued.
    public var queueId: String?

    public init(sessionId: String, clientMessageId: String, seq: Int? = nil, queueId: String? = nil) {
        self.sessionId = sessionId
        self.clientMessageId = clientMessageId
        self.seq = seq
        self.queueId = queueId
    }
}
