import SwitchboardAdapterAPI

/// Turns the OpenCode server's events into chat messages for one turn of one session.
///
/// Handles both protocol generations: text deltas as `message.part.delta` (OpenCode ≥ 1.2)
/// and as the `delta` of `message.part.updated` (before). Events of other sessions, and the
/// parts of the user's own message, are ignored. The turn ends when the assistant message
/// whose `parentID` is the turn's user message id is completed or has an error; an idle
/// only ends it once that reply started (the first idle can come before any reply exists)
/// or after a `session.error`. A reply of several steps (the model called tools, then goes
/// on) is several assistant messages with that parent: a step completed with `finish`
/// `tool-calls` does not end the turn. Permission and question events are read by
/// ``decision(_:)``.
struct TurnEventMapper {
    /// How a turn ended.
    enum End: Equatable {
        /// The reply completed; the model it used as `provider/model`, when known.
        case done(model: String?)
        /// The turn failed with this reason (already reported as an `error` message).
        case failed(String)
    }

    let sessionID: String
    let userMessageID: String

    private var replyMessageIDs: Set<String> = []
    private var partTypes: [String: String] = [:]
    private var emittedText: [String: String] = [:]
    private var toolUses: Set<String> = []
    private var toolResults: Set<String> = []
    private var reportedError: String?
    private var model: String?
    /// The input of each tool call seen, by its `callID`: a permission request names the
    /// call it is for, and the call's input says more than some requests do.
    private(set) var toolInputs: [String: JSONValue] = [:]
    /// The part id of each tool call, by its `callID`: a decision request names the call by
    /// `callID`, the `tool_use` message by the part id, and clients match the two by `toolId`.
    private(set) var toolParts: [String: String] = [:]
    /// The sessions of sub-agents this session started (the task tool's child sessions, and
    /// theirs): their permission requests and questions belong to this turn.
    private(set) var childSessions: Set<String> = []

    init(sessionID: String, userMessageID: String) {
        self.sessionID = sessionID
        self.userMessageID = userMessageID
    }

    /// Whether the assistant's reply to this turn has begun.
    var replyStarted: Bool { !replyMessageIDs.isEmpty }

    /// The messages one event yields, and the end of the turn if it ends here.
    mutating func handle(_ event: JSONValue) -> (messages: [ChatMessage], end: End?) {
        guard let type = event["type"]?.stringValue else { return ([], nil) }
        let properties = event["properties"] ?? .object([:])
        switch type {
        case "message.updated":
            return messageUpdated(properties["info"] ?? .null)
        case "message.part.updated":
            return (partUpdated(properties["part"] ?? .null, delta: properties["delta"]?.stringValue), nil)
        case "message.part.delta":
            return (partDelta(properties), nil)
        case "session.error":
            guard properties["sessionID"]?.stringValue == sessionID else { return ([], nil) }
            let error = properties["error"] ?? .null
            if error["name"]?.stringValue == "MessageAbortedError" { return ([], nil) }
            return report(Self.describe(error))
        case "session.created", "session.updated":
            let info = properties["info"] ?? .null
            if let id = info["id"]?.stringValue, let parent = info["parentID"]?.stringValue,
               parent == sessionID || childSessions.contains(parent) {
                childSessions.insert(id)
            }
            return ([], nil)
        case "session.idle":
            guard properties["sessionID"]?.stringValue == sessionID else { return ([], nil) }
            return idle()
        case "session.status":
            guard properties["sessionID"]?.stringValue == sessionID,
                  properties["status"]?["type"]?.stringValue == "idle" else { return ([], nil) }
            return idle()
        default:
            return ([], nil)
        }
    }

    private mutating func idle() -> (messages: [ChatMessage], end: End?) {
        if let reportedError { return ([], .failed(reportedError)) }
        return replyStarted ? ([], .done(model: model)) : ([], nil)
    }

    private mutating func report(_ reason: String) -> (messages: [ChatMessage], end: End?) {
        guard reportedError == nil else { return ([], nil) }
        reportedError = reason
        return ([ChatMessage(type: .error, content: reason)], nil)
    }

    private mutating func messageUpdated(_ info: JSONValue) -> (messages: [ChatMessage], end: End?) {
        guard info["sessionID"]?.stringValue == sessionID, info["role"]?.stringValue == "assistant",
              info["parentID"]?.stringValue == userMessageID, let id = info["id"]?.stringValue else { return ([], nil) }
        replyMessageIDs.insert(id)
        if let provider = info["providerID"]?.stringValue, let modelID = info["modelID"]?.stringValue {
            model = "\(provider)/\(modelID)"
        }
        if let error = info["error"], error != .null {
            if error["name"]?.stringValue == "MessageAbortedError" { return ([], nil) }
            let reason = Self.describe(error)
            let (messages, _) = report(reason)
            return (messages, .failed(reportedError ?? reason))
        }
        // A step that ends in tool calls is followed by another step (another assistant
        // message with the same parent); only the last step's completion ends the turn.
        let finish = info["finish"]?.stringValue
        if let completed = info["time"]?["completed"], completed != .null, finish != "tool-calls", finish != "unknown" {
            return ([], .done(model: model))
        }
        return ([], nil)
    }

    private mutating func partUpdated(_ part: JSONValue, delta: String?) -> [ChatMessage] {
        guard part["sessionID"]?.stringValue == sessionID, let messageID = part["messageID"]?.stringValue,
              messageID != userMessageID, let id = part["id"]?.stringValue, let type = part["type"]?.stringValue
        else { return [] }
        partTypes[id] = type
        switch type {
        case "text":
            if let delta { return text(delta, part: id, message: messageID) }
            // A full snapshot: emit only what the deltas have not delivered yet.
            let full = part["text"]?.stringValue ?? ""
            let emitted = emittedText[id] ?? ""
            guard full.count > emitted.count, full.hasPrefix(emitted) else { return [] }
            return text(String(full.dropFirst(emitted.count)), part: id, message: messageID)
        case "tool":
            return tool(part, id: id)
        default:
            return []
        }
    }

    private mutating func partDelta(_ properties: JSONValue) -> [ChatMessage] {
        guard properties["sessionID"]?.stringValue == sessionID, let messageID = properties["messageID"]?.stringValue,
              messageID != userMessageID, let partID = properties["partID"]?.stringValue,
              (properties["field"]?.stringValue ?? "text") == "text", let delta = properties["delta"]?.stringValue,
              (partTypes[partID] ?? "text") == "text"
        else { return [] }
        return text(delta, part: partID, message: messageID)
    }

    private mutating func text(_ delta: String, part: String, message: String) -> [ChatMessage] {
        guard !delta.isEmpty else { return [] }
        emittedText[part, default: ""] += delta
        return [ChatMessage(type: .assistant, content: delta, messageId: message)]
    }

    private mutating func tool(_ part: JSONValue, id: String) -> [ChatMessage] {
        let state = part["state"] ?? .null
        let status = state["status"]?.stringValue ?? "pending"
        let input = state["input"] ?? .object([:])
        if let callID = part["callID"]?.stringValue {
            toolParts[callID] = id
            if input.objectValue?.isEmpty == false { toolInputs[callID] = input }
        }
        var messages: [ChatMessage] = []
        // Pending parts rarely carry their input yet: the first later state does.
        let inputKnown = status != "pending" || (input.objectValue?.isEmpty == false)
        if inputKnown, !toolUses.contains(id) {
            toolUses.insert(id)
            let name = part["tool"]?.stringValue ?? "tool"
            var extra: [String: JSONValue] = [:]
            if let title = state["title"]?.stringValue, !title.isEmpty { extra["title"] = .string(title) }
            if let callID = part["callID"]?.stringValue { extra["callId"] = .string(callID) }
            messages.append(ChatMessage(type: .toolUse, content: input.jsonText, toolName: name, toolId: id, extra: extra))
        }
        if (status == "completed" || status == "error"), !toolResults.contains(id) {
            toolResults.insert(id)
            if status == "completed" {
                messages.append(ChatMessage(type: .toolResult, content: state["output"]?.stringValue ?? "", toolId: id))
            } else {
                messages.append(ChatMessage(type: .toolResult, content: state["error"]?.stringValue ?? "The tool failed.",
                                            toolId: id, extra: ["isError": .bool(true)]))
            }
        }
        return messages
    }

    /// An OpenCode error object (`{name, data: {message}}`) as a sentence.
    static func describe(_ error: JSONValue) -> String {
        let name = error["name"]?.stringValue ?? "UnknownError"
        if let message = error["data"]?["message"]?.stringValue, !message.isEmpty { return "OpenCode: \(message) (\(name))" }
        if let message = error["message"]?.stringValue, !message.isEmpty { return "OpenCode: \(message) (\(name))" }
        return "OpenCode reported \(name)."
    }
}
