/// One chat message as clients see it.
///
/// The JSON field names are fixed — `type`, `content`, `timestamp`, and the optional
/// `messageId`, `toolName`, `toolId` — because clients of the original session manager read
/// them. Adapters may attach further optional fields in ``extra`` (for example `isError` on a
/// `tool_result`, or the cost and token usage on `done`); they are written next to the fixed
/// fields.
public struct ChatMessage: Sendable, Hashable {
    /// What kind of message this is.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case user
        case assistant
        case system
        case toolUse = "tool_use"
        case toolResult = "tool_result"
        case error
        case done
    }

    /// The fields' values (equality and hashing are theirs).
    private struct Values: Hashable {
        var type: Kind
        var content: String
        var timestamp: String
        var messageId: String?
        var toolName: String?
        var toolId: String?
        var extra: [String: JSONValue]
    }

    /// The values, shared by every copy until one is changed (copy on write): a message passes
    /// through several queues and enums on its way to the clients, and a copy of it costs one
    /// reference, not one per field.
    private final class Fields: @unchecked Sendable {
        // Mutated only through a `ChatMessage` that holds the one reference (see `unique()`).
        var values: Values
        init(_ values: Values) { self.values = values }
    }

    private var fields: Fields

    /// Makes `fields` this message's own before a change.
    private mutating func unique() {
        if !isKnownUniquelyReferenced(&fields) { fields = Fields(fields.values) }
    }

    /// The kind of message; its JSON name is `type`.
    public var type: Kind {
        get { fields.values.type }
        set { unique(); fields.values.type = newValue }
    }
    /// The text: a reply delta, a tool's input or output, a notice.
    public var content: String {
        get { fields.values.content }
        set { unique(); fields.values.content = newValue }
        _modify { unique(); yield &fields.values.content }
    }
    /// When it was made, ISO-8601 in UTC with milliseconds (`2026-11-25T09:33:26.123Z`).
    public var timestamp: String {
        get { fields.values.timestamp }
        set { unique(); fields.values.timestamp = newValue }
    }
    /// The agent's id of the reply this message belongs to (streamed deltas share one).
    public var messageId: String? {
        get { fields.values.messageId }
        set { unique(); fields.values.messageId = newValue }
    }
    /// The tool's name, on `tool_use`.
    public var toolName: String? {
        get { fields.values.toolName }
        set { unique(); fields.values.toolName = newValue }
    }
    /// The tool call's id, on `tool_use` and `tool_result`.
    public var toolId: String? {
        get { fields.values.toolId }
        set { unique(); fields.values.toolId = newValue }
    }
    /// Optional extra fields, written beside the fixed ones. Keys must not repeat the fixed names.
    public var extra: [String: JSONValue] {
        get { fields.values.extra }
        set { unique(); fields.values.extra = newValue }
        _modify { unique(); yield &fields.values.extra }
    }

    /// A message stamped now unless a timestamp is given.
    public init(
        type: Kind,
        content: String,
        timestamp: String = Timestamp.now(),
        messageId: String? = nil,
        toolName: String? = nil,
        toolId: String? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        fields = Fields(Values(type: type, content: content, timestamp: timestamp, messageId: messageId,
                               toolName: toolName, toolId: toolId, extra: extra))
    }

    public static func == (lhs: ChatMessage, rhs: ChatMessage) -> Bool {
        lhs.fields === rhs.fields || lhs.fields.values == rhs.fields.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields.values)
    }

    /// The field names every message may carry; ``extra`` keys must avoid them.
    public static let fixedFieldNames: Set<String> = ["type", "content", "timestamp", "messageId", "toolName", "toolId"]
}

extension ChatMessage {
    /// Writes the message as one JSON object.
    package func write(to writer: inout JSONWriter) {
        writer.appendRaw("{\"type\":\"")
        writer.bytes.append(contentsOf: type.rawValue.utf8)
        writer.appendRaw("\",\"content\":")
        writer.appendString(content)
        writer.appendRaw(",\"timestamp\":")
        writer.appendString(timestamp)
        if let messageId {
            writer.appendRaw(",\"messageId\":")
            writer.appendString(messageId)
        }
        if let toolName {
            writer.appendRaw(",\"toolName\":")
            writer.appendString(toolName)
        }
        if let toolId {
            writer.appendRaw(",\"toolId\":")
            writer.appendString(toolId)
        }
        if !extra.isEmpty {
            for key in extra.keys.sorted() where !Self.fixedFieldNames.contains(key) {
                writer.appendByte(UInt8(ascii: ","))
                writer.appendString(key)
                writer.appendByte(UInt8(ascii: ":"))
                writer.write(extra[key]!)
            }
        }
        writer.appendByte(UInt8(ascii: "}"))
    }

    /// Reads one message object. Unknown fields are kept in ``extra``.
    package static func read(from reader: inout JSONReader) throws(JSONError) -> ChatMessage {
        var type: Kind?
        var content: String?
        var timestamp: String?
        var messageId: String?
        var toolName: String?
        var toolId: String?
        var extra: [String: JSONValue] = [:]
        let start = reader.index
        try reader.readObjectKeys { (r: inout JSONReader, key: JSONKey) throws(JSONError) in
            switch key {
            case "type": type = try Kind.read(from: &r)
            case "content": content = try r.readString()
            case "timestamp": timestamp = try r.readString()
            case "messageId": messageId = try r.readOptionalString()
            case "toolName": toolName = try r.readOptionalString()
            case "toolId": toolId = try r.readOptionalString()
            default: extra[key.string] = try r.readValue()
            }
        }
        guard let type else { throw JSONError(offset: start, reason: "message has no 'type'") }
        guard let content else { throw JSONError(offset: start, reason: "message has no 'content'") }
        return ChatMessage(type: type, content: content, timestamp: timestamp ?? Timestamp.now(),
                           messageId: messageId, toolName: toolName, toolId: toolId, extra: extra)
    }

    /// The message as compact JSON text.
    public var jsonText: String {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.string
    }

    /// Parses a message from JSON text.
    public init(jsonText: String) throws(JSONError) {
        var copy = jsonText
        self = try copy.withUTF8 { buffer in
            Result { () throws(JSONError) -> ChatMessage in
                var reader = JSONReader(buffer)
                let message = try ChatMessage.read(from: &reader)
                try reader.expectEnd()
                return message
            }
        }.get()
    }
}

extension ChatMessage.Kind {
    /// Reads a `type` value, matching the bytes without making a `String`.
    static func read(from reader: inout JSONReader) throws(JSONError) -> ChatMessage.Kind {
        let name = try reader.readName()
        switch name {
        case "assistant": return .assistant
        case "user": return .user
        case "system": return .system
        case "tool_use": return .toolUse
        case "tool_result": return .toolResult
        case "error": return .error
        case "done": return .done
        default: throw reader.error("unknown message type '\(name.string)'")
        }
    }
}
