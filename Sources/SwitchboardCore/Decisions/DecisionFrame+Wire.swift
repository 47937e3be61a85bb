import SwitchboardAdapterAPI

/// The wire objects of decision frames (see `Docs/Protocol.md#decision-requests`), and reading
/// them back from the event log.
extension DecisionFrame {
    /// `permission_request` / `question`, or `permission_resolved` / `question_resolved`,
    /// without `seq` and `timestamp`.
    public var wireObject: [String: JSONValue] {
        switch self {
        case .requested(let pending):
            var object = pending.wireObject
            object["type"] = .string(pending.request.kind == .question ? "question" : "permission_request")
            return object
        case .resolved(let resolution):
            var object = resolution.wireObject
            object["type"] = .string(resolution.kind == .question ? "question_resolved" : "permission_resolved")
            return object
        }
    }

    /// Reads a frame in the form of ``wireObject``.
    init(wire value: JSONValue) throws(JSONError) {
        switch value["type"]?.stringValue {
        case "permission_request", "question": self = .requested(try PendingDecision(wire: value))
        case "permission_resolved", "question_resolved": self = .resolved(try DecisionResolution(wire: value))
        default: throw JSONError(offset: 0, reason: "not a decision frame")
        }
    }
}

extension PendingDecision {
    /// The fields of a pending request, as frames and `GET /v1/requests` show it.
    public var wireObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "requestId": .string(requestId),
            "sessionId": .string(sessionId),
            "agentType": .string(agentType),
            "kind": .string(request.kind.rawValue),
            "toolName": .string(request.toolName),
            "toolId": request.toolId.map(JSONValue.string) ?? .null,
            "content": .string(request.summary),
            "input": request.input,
            "options": .array(request.options.map(JSONValue.string)),
            "requestedAt": WireTime.value(requestedAt),
            "expiresAt": WireTime.value(expiresAt),
        ]
        if !request.questions.isEmpty { object["questions"] = .array(request.questions.map(\.jsonValue)) }
        return object
    }

    init(wire value: JSONValue) throws(JSONError) {
        func string(_ key: String) throws(JSONError) -> String {
            guard let text = value[key]?.stringValue else { throw JSONError(offset: 0, reason: "a decision frame has no '\(key)'") }
            return text
        }
        var questions: [DecisionRequest.Question] = []
        for question in value["questions"]?.arrayValue ?? [] { questions.append(try DecisionRequest.Question(json: question)) }
        let kind = DecisionRequest.Kind(rawValue: value["kind"]?.stringValue ?? "") ?? .permission
        let request = DecisionRequest(
            id: try string("requestId"), kind: kind, toolName: try string("toolName"), toolId: value["toolId"]?.stringValue,
            input: value["input"] ?? .object([:]), summary: value["content"]?.stringValue ?? "",
            options: (value["options"]?.arrayValue ?? []).compactMap(\.stringValue), questions: questions
        )
        self.init(
            requestId: try string("requestId"), sessionId: try string("sessionId"), agentType: value["agentType"]?.stringValue ?? "",
            request: request, requestedAt: WireTime.read(value["requestedAt"]) ?? 0, expiresAt: WireTime.read(value["expiresAt"]) ?? 0
        )
    }
}

extension DecisionResolution {
    /// The fields of a resolution, as frames and `POST /v1/requests/{id}` show it.
    public var wireObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "requestId": .string(requestId),
            "sessionId": .string(sessionId),
            "kind": .string(kind.rawValue),
            "toolName": .string(toolName),
            "content": .string(summary),
            "decision": .string(decision),
            "by": .string(source.by),
            "decider": source.decider.map(JSONValue.string) ?? .null,
            "resolvedAt": WireTime.value(resolvedAt),
        ]
        if let message { object["message"] = .string(message) }
        if !answers.isEmpty { object["answers"] = .object(answers.mapValues(JSONValue.string)) }
        return object
    }

    init(wire value: JSONValue) throws(JSONError) {
        guard let requestId = value["requestId"]?.stringValue, let decision = value["decision"]?.stringValue else {
            throw JSONError(offset: 0, reason: "a resolution frame has no 'requestId' or 'decision'")
        }
        var answers: [String: String] = [:]
        for (question, answer) in value["answers"]?.objectValue ?? [:] { answers[question] = answer.stringValue }
        self.init(
            requestId: requestId, sessionId: value["sessionId"]?.stringValue ?? "",
            kind: DecisionRequest.Kind(rawValue: value["kind"]?.stringValue ?? "") ?? .permission,
            toolName: value["toolName"]?.stringValue ?? "", summary: value["content"]?.stringValue ?? "",
            decision: decision, message: value["message"]?.stringValue, answers: answers,
            source: DecisionSource(by: value["by"]?.stringValue ?? "agent", decider: value["decider"]?.stringValue),
            resolvedAt: WireTime.read(value["resolvedAt"]) ?? 0
        )
    }
}
