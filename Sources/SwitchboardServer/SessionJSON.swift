import SwitchboardAdapterAPI
import SwitchboardCore

/// How sessions, records and frames look on the wire.
enum SessionJSON {
    static func time(_ epochMilliseconds: Int64) -> JSONValue {
        .string(Timestamp.format(seconds: Int(epochMilliseconds / 1000), milliseconds: Int(epochMilliseconds % 1000)))
    }

    static func optional(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    /// A live session.
    static func live(_ info: SessionInfo, clients: Int) -> JSONValue {
        .object([
            "sessionId": .string(info.id),
            "workspaceName": .string(info.workspaceName),
            "agentType": .string(info.agentType),
            "agentSessionId": optional(info.agentSessionId),
            "model": optional(info.model),
            "projectPath": optional(info.projectPath),
            "status": .string(info.status.rawValue),
            "live": .bool(true),
            "clients": .int(clients),
            "lastError": optional(info.lastError),
            "createdAt": time(info.createdAt),
            "lastActivity": time(info.lastActivity),
        ])
    }

    /// A stored session that is not live.
    static func stored(_ record: SessionRecord) -> JSONValue {
        .object([
            "sessionId": .string(record.id),
            "workspaceName": .string(record.workspaceName),
            "agentType": .string(record.agentType),
            "agentSessionId": optional(record.agentSessionId),
            "model": optional(record.model),
            "projectPath": optional(record.projectPath),
            "status": .string("stored"),
            "live": .bool(false),
            "clients": .int(0),
            "createdAt": time(record.createdAt),
            "lastActivity": time(record.lastActivity),
        ])
    }

    /// A frame as clients of the original receive it: the chat message's fields plus `seq`.
    static func frame(_ frame: SessionFrame) -> String {
        var writer = JSONWriter(capacity: 128 + frame.message.content.utf8.count)
        frame.message.write(to: &writer)
        if let seq = frame.seq {
            writer.bytes.removeLast()  // the closing brace
            writer.appendRaw(",\"seq\":")
            writer.appendInt(seq)
            writer.appendByte(UInt8(ascii: "}"))
        }
        return writer.string
    }

    /// A frame as a JSON value (for the HTTP API's message list).
    static func frameValue(_ frame: SessionFrame) -> JSONValue {
        (try? JSONValue(parsing: Self.frame(frame))) ?? .null
    }
}
