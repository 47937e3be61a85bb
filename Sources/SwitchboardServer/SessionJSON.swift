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
            "pendingRequests": .int(info.pendingDecisions),
            "queuedMessages": .int(info.queuedMessages),
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

    /// A frame as WebSocket clients receive it: its wire text, made once by the session manager.
    static func frame(_ frame: SessionFrame) -> String { frame.wireText }

    /// A frame as a JSON value (for the HTTP API's message list).
    static func frameValue(_ frame: SessionFrame) -> JSONValue {
        (try? JSONValue(parsing: frame.wireText)) ?? .null
    }
}

extension SessionJSON {
    /// An audit-log row, as `GET /v1/requests?state=all` lists it.
    static func record(_ record: DecisionRecord) -> JSONValue {
        var object: [String: JSONValue] = [
            "requestId": .string(record.id),
            "sessionId": .string(record.sessionId),
            "agentType": .string(record.agentType),
            "kind": .string(record.kind.rawValue),
            "toolName": .string(record.toolName),
            "toolId": optional(record.toolId),
            "content": .string(record.summary),
            "input": (try? JSONValue(parsing: record.input)) ?? .string(record.input),
            "options": .array(record.options.map(JSONValue.string)),
            "state": .string(record.state.rawValue),
            "decision": optional(record.decision),
            "by": optional(record.decidedBy),
            "decider": optional(record.decider),
            "message": optional(record.message),
            "requestedAt": time(record.requestedAt),
            "resolvedAt": record.resolvedAt.map(time) ?? .null,
        ]
        if !record.answers.isEmpty { object["answers"] = .object(record.answers.mapValues(JSONValue.string)) }
        return .object(object)
    }
}
