import SwitchboardAdapterAPI

/// One frame a client receives from a session: a chat message, a notice of the session
/// manager, a decision frame or a queue frame, with its sequence number.
///
/// Sequence numbers are per session, start at 0 when the session is first made and only grow —
/// also across restores: a restored session continues after the last frame of its event log.
/// A client that reconnects with the last one it saw receives exactly what it missed. The
/// per-connection notices ("Connected to session", …) are the only frames without one.
///
/// A frame's wire form (``wireText``) is made once, when the frame is made; the event log
/// keeps it and every WebSocket client receives it as it is.
public struct SessionFrame: Sendable, Hashable {
    /// What a frame carries.
    public enum Content: Sendable, Hashable {
        /// A chat message (from the agent, or the user's message).
        case message(ChatMessage)
        /// A notice of the session manager.
        case notice(SessionNotice)
        /// A decision request or its resolution.
        case decision(DecisionFrame)
        /// A message queued or taken out of the queue.
        case queue(QueueFrame)
    }

    /// The frame's fields, shared by every copy: the ring, the log's queue and every client's
    /// queue hold one reference to a frame, not copies of its fields.
    final class Storage: Sendable {
        let seq: Int?
        let content: Content
        let timestamp: String
        let wireText: String

        init(seq: Int?, content: Content, timestamp: String, wireText: String) {
            self.seq = seq
            self.content = content
            self.timestamp = timestamp
            self.wireText = wireText
        }
    }

    let storage: Storage

    /// The frame's sequence number; `nil` for the per-connection notices.
    public var seq: Int? { storage.seq }
    /// What it carries.
    public var content: Content { storage.content }
    /// When it was made (ISO-8601, UTC, milliseconds).
    public var timestamp: String { storage.timestamp }
    /// The frame as clients on the wire receive it: one JSON object, `seq` included.
    public var wireText: String { storage.wireText }

    /// A frame with `content`.
    public init(seq: Int?, content: Content, timestamp: String? = nil) {
        let stamp: String = switch content {
        case .message(let message): timestamp ?? message.timestamp
        default: timestamp ?? Timestamp.now()
        }
        storage = Storage(seq: seq, content: content, timestamp: stamp, wireText: Self.encode(content, seq: seq, timestamp: stamp))
    }

    /// A frame with these fields, its wire form given (read back from the log).
    init(seq: Int?, content: Content, timestamp: String, wireText: String) {
        storage = Storage(seq: seq, content: content, timestamp: timestamp, wireText: wireText)
    }

    public static func == (lhs: SessionFrame, rhs: SessionFrame) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.seq == rhs.seq && lhs.wireText == rhs.wireText && lhs.timestamp == rhs.timestamp && lhs.content == rhs.content)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
        hasher.combine(wireText)
    }

    /// A frame carrying a chat message.
    public init(seq: Int?, message: ChatMessage) {
        self.init(seq: seq, content: .message(message))
    }

    /// A frame carrying a notice of the session manager.
    public init(seq: Int?, notice: SessionNotice, timestamp: String = Timestamp.now()) {
        self.init(seq: seq, content: .notice(notice), timestamp: timestamp)
    }

    /// A frame about a decision request.
    public init(seq: Int?, decision: DecisionFrame, timestamp: String = Timestamp.now()) {
        self.init(seq: seq, content: .decision(decision), timestamp: timestamp)
    }

    /// A frame about the session's message queue.
    public init(seq: Int?, queue: QueueFrame, timestamp: String = Timestamp.now()) {
        self.init(seq: seq, content: .queue(queue), timestamp: timestamp)
    }

    /// The notice, when the frame is one.
    public var notice: SessionNotice? {
        if case .notice(let notice) = content { return notice }
        return nil
    }

    /// The decision frame, when the frame is one.
    public var decision: DecisionFrame? {
        if case .decision(let decision) = content { return decision }
        return nil
    }

    /// The queue frame, when the frame is one.
    public var queue: QueueFrame? {
        if case .queue(let queue) = content { return queue }
        return nil
    }

    /// The frame as a chat message: a notice becomes the `system` message wire clients
    /// receive, with its ``SessionNotice/wireText``; a decision or queue frame a `system`
    /// message with a line of text (wire clients get those frames themselves).
    public var message: ChatMessage {
        switch content {
        case .message(let message): message
        case .notice(let notice): ChatMessage(type: .system, content: notice.wireText, timestamp: timestamp)
        case .decision(let decision): ChatMessage(type: .system, content: decision.text, timestamp: timestamp)
        case .queue(let queue): ChatMessage(type: .system, content: queue.text, timestamp: timestamp)
        }
    }

    /// What kind of frame the event log records it as.
    public var logKind: LoggedFrame.Kind {
        switch content {
        case .message: .message
        case .notice: .notice
        case .decision: .decision
        case .queue: .queue
        }
    }

    /// An estimate of the memory the frame holds.
    var byteEstimate: Int { 64 + 2 * wireText.utf8.count }
}
