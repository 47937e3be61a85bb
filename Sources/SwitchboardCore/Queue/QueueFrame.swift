import SwitchboardAdapterAPI

/// A frame about a session's message queue, as every client of the session receives it.
public enum QueueFrame: Sendable, Hashable {
    /// A message waits for the running turn to end: `{"type":"queued","queueId","content","position"}`.
    /// `position` is 1 for the next to be sent.
    case queued(QueuedMessage, position: Int)
    /// A queued message was taken out before it was sent: `{"type":"queue_cancelled","queueId"}`.
    case cancelled(queueId: String, by: String)

    /// The wire object, without `seq` and `timestamp`.
    public var wireObject: [String: JSONValue] {
        switch self {
        case .queued(let message, let position):
            var object: [String: JSONValue] = [
                "type": .string("queued"), "queueId": .string(message.queueId), "content": .string(message.content),
                "position": .int(position), "queuedAt": WireTime.value(message.queuedAt),
            ]
            if let id = message.clientMessageId { object["clientMessageId"] = .string(id) }
            return object
        case .cancelled(let queueId, let by):
            return ["type": .string("queue_cancelled"), "queueId": .string(queueId), "by": .string(by)]
        }
    }

    /// A line of text for clients that show only chat messages.
    public var text: String {
        switch self {
        case .queued(let message, let position): "Queued (\(message.queueId), position \(position)): \(message.content)"
        case .cancelled(let queueId, let by): "Queued message \(queueId) cancelled by \(by)"
        }
    }

    /// Reads a frame in the form of ``wireObject``.
    init(wire value: JSONValue) throws(JSONError) {
        guard let queueId = value["queueId"]?.stringValue else { throw JSONError(offset: 0, reason: "a queue frame has no 'queueId'") }
        switch value["type"]?.stringValue {
        case "queued":
            let message = QueuedMessage(
                queueId: queueId, sessionId: "", content: value["content"]?.stringValue ?? "",
                clientMessageId: value["clientMessageId"]?.stringValue, queuedAt: WireTime.read(value["queuedAt"]) ?? 0
            )
            self = .queued(message, position: value["position"]?.intValue ?? 0)
        case "queue_cancelled":
            self = .cancelled(queueId: queueId, by: value["by"]?.stringValue ?? "client")
        default:
            throw JSONError(offset: 0, reason: "not a queue frame")
        }
    }
}
