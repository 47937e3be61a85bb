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

    /// A frame as clients of the original receive it: the chat message's fields plus `seq`;
    /// a decision frame as its own object (``decisionFrame(_:seq:timestamp:)``).
    static func frame(_ frame: SessionFrame) -> String {
        if let decision = frame.decision {
            return decisionFrame(decision, seq: frame.seq, timestamp: frame.timestamp).jsonText
        }
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

extension SessionJSON {
    /// `permission_request` / `question` and `permission_resolved` / `question_resolved`.
    static func decisionFrame(_ decision: DecisionFrame, seq: Int?, timestamp: String) -> JSONValue {
        var object: [String: JSONValue]
        switch decision {
        case .requested(let pending):
            object = pendingObject(pending)
            object["type"] = .string(pending.request.kind == .question ? "question" : "permission_request")
        case .resolved(let resolution):
            object = resolutionObject(resolution)
            object["type"] = .string(resolution.kind == .question ? "question_resolved" : "permission_resolved")
        }
        if let seq { object["seq"] = .int(seq) }
        object["timestamp"] = .string(timestamp)
        return .object(object)
    }

    /// The fields of a pending request, as frames and `GET /v1/requests` show it.
    static func pendingObject(_ pending: PendingDecision) -> [String: JSONValue] {
        let request = pending.request
        var object: [String: JSONValue] = [
            "requestId": .string(pending.requestId),
            "sessionId": .string(pending.sessionId),
            "agentType": .string(pending.agentType),
            "kind": .string(request.kind.rawValue),
            "toolName": .string(request.toolName),
            "toolId": optional(request.toolId),
            "content": .string(request.summary),
            "input": request.input,
            "options": .array(request.options.map(JSONValue.string)),
            "requestedAt": time(pending.requestedAt),
            "expiresAt": time(pending.expiresAt),
        ]
        if !request.questions.isEmpty { object["questions"] = .array(request.questions.map(\.jsonValue)) }
        return object
    }

    static func resolutionObject(_ resolution: DecisionResolution) -> [String: JSONValue] {
        var object: [String: JSONValue] = [
            "requestId": .string(resolution.requestId),
            "sessionId": .string(resolution.sessionId),
            "kind": .string(resolution.kind.rawValue),
            "toolName": .string(resolution.toolName),
            "content": .string(resolution.summary),
            "decision": .string(resolution.decision),
            "by": .string(resolution.source.by),
            "decider": optional(resolution.source.decider),
            "resolvedAt": time(resolution.resolvedAt),
        ]
        if let message = resolution.message { object["message"] = .string(message) }
        if !resolution.answers.isEmpty { object["answers"] = .object(resolution.answers.mapValues(JSONValue.string)) }
        return object
    }

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
