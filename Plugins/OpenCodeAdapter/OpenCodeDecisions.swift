import SwitchboardAdapterAPI

/// A request the OpenCode server waits on, as the adapter asks it: the decision request for
/// the host and how to send the answer back.
struct ServerDecision: Sendable, Hashable {
    /// The reply route, chosen by the event the request came in.
    enum Route: Sendable, Hashable {
        /// `permission.updated` (OpenCode ≤ 1.0.223): `POST /session/:sessionID/permissions/:id`
        /// with `{"response":"once"|"always"|"reject"}`; no message with a rejection.
        case legacyPermission(sessionID: String)
        /// `permission.asked` (OpenCode ≥ 1.0.224): `POST /permission/:id/reply` with
        /// `{"reply":"once"|"always"|"reject","message"?:…}`.
        case permission
        /// `question.asked` (OpenCode ≥ 1.1.7): `POST /question/:id/reply` with
        /// `{"answers":[[label, …], …]}` (in the order of the questions), or
        /// `POST /question/:id/reject`.
        case question
    }

    var request: DecisionRequest
    var route: Route

    /// The server's id for the request (also the decision request's id).
    var id: String { request.id }

    /// What the adapter says in messages: `permission request per_…`, `question que_…`.
    var description: String { (route == .question ? "question " : "permission request ") + id }
}

/// OpenCode's permission and question events as decision requests, and answers as the
/// request the server expects.
enum OpenCodeDecisions {
    /// OpenCode's permission names as tool names people know (the names Claude uses where
    /// they mean the same); any other permission is capitalized as given.
    static let toolNames: [String: String] = [
        "bash": "Bash", "edit": "Edit", "write": "Write", "read": "Read", "webfetch": "WebFetch",
        "websearch": "WebSearch", "codesearch": "CodeSearch", "todowrite": "TodoWrite", "todoread": "TodoRead",
        "multiedit": "MultiEdit", "apply_patch": "ApplyPatch", "doom_loop": "DoomLoop",
    ]

    /// The permissions whose subject (for the operator's rules) is a file path.
    static let fileTools: Set<String> = ["edit", "write", "read", "patch", "multiedit", "apply_patch"]

    /// The tool name for an OpenCode permission (`bash` → `Bash`).
    static func toolName(_ permission: String) -> String {
        if let known = toolNames[permission] { return known }
        guard let first = permission.first else { return "Tool" }
        return first.uppercased() + permission.dropFirst()
    }

    /// `permission.updated` (the old generation):
    /// `{id, type, pattern?: string | string[], sessionID, messageID, callID?, title, metadata, time}`.
    /// `toolInput` is the input of the tool part with the request's call id, when known.
    static func legacyPermission(_ properties: JSONValue, toolInput: JSONValue? = nil) -> ServerDecision? {
        guard let id = properties["id"]?.stringValue, let sessionID = properties["sessionID"]?.stringValue else { return nil }
        let permission = properties["type"]?.stringValue ?? "unknown"
        let patterns: [String] = switch properties["pattern"] {
        case .string(let one)?: [one]
        case .array(let many)?: many.compactMap(\.stringValue)
        default: []
        }
        let request = permissionRequest(
            id: id, permission: permission, patterns: patterns, metadata: properties["metadata"] ?? .object([:]),
            title: properties["title"]?.stringValue, callID: properties["callID"]?.stringValue,
            offersAlways: true, toolInput: toolInput
        )
        return ServerDecision(request: request, route: .legacyPermission(sessionID: sessionID))
    }

    /// `permission.asked` (the new generation):
    /// `{id, sessionID, permission, patterns: [], metadata, always: [], tool?: {messageID, callID}}`.
    static func permission(_ properties: JSONValue, toolInput: JSONValue? = nil) -> ServerDecision? {
        guard let id = properties["id"]?.stringValue, properties["sessionID"]?.stringValue != nil else { return nil }
        let always = properties["always"]?.arrayValue ?? []
        let request = permissionRequest(
            id: id, permission: properties["permission"]?.stringValue ?? "unknown",
            patterns: (properties["patterns"]?.arrayValue ?? []).compactMap(\.stringValue),
            metadata: properties["metadata"] ?? .object([:]), title: nil,
            callID: properties["tool"]?["callID"]?.stringValue,
            // An "always" that approves no pattern is a "once": offer it only when it means more.
            offersAlways: !always.isEmpty, toolInput: toolInput
        )
        return ServerDecision(request: request, route: .permission)
    }

    private static func permissionRequest(
        id: String, permission: String, patterns: [String], metadata: JSONValue, title: String?, callID: String?,
        offersAlways: Bool, toolInput: JSONValue?
    ) -> DecisionRequest {
        var input = metadata.objectValue ?? ["metadata": metadata]
        if input["patterns"] == nil, !patterns.isEmpty { input["patterns"] = .array(patterns.map(JSONValue.string)) }
        var subject: String?
        if permission == "bash" {
            // The whole command: the metadata's (old servers, 1.18), else the tool part's
            // input, else the title (old servers), else what the server split it into.
            subject = metadata["command"]?.stringValue ?? toolInput?["command"]?.stringValue ?? title
                ?? (patterns.isEmpty ? nil : patterns.joined(separator: " && "))
            if input["command"] == nil, let subject { input["command"] = .string(subject) }
        } else if fileTools.contains(permission) {
            subject = metadata["filePath"]?.stringValue ?? metadata["filepath"]?.stringValue
                ?? toolInput?["filePath"]?.stringValue ?? patterns.first
        }
        let fallback = title ?? ([permission] + patterns).joined(separator: " ")
        return DecisionRequest(
            id: id, kind: .permission, toolName: toolName(permission), toolId: callID, input: .object(input),
            summary: oneLine(subject ?? fallback),
            options: offersAlways ? [Decision.allow, Decision.allowSession, Decision.deny] : [Decision.allow, Decision.deny],
            subject: subject
        )
    }

    /// `question.asked`: `{id, sessionID, questions: [{question, header, options: [{label,
    /// description}], multiple?, custom?}], tool?: {messageID, callID}}`.
    static func question(_ properties: JSONValue) -> ServerDecision? {
        guard let id = properties["id"]?.stringValue, properties["sessionID"]?.stringValue != nil,
              let list = properties["questions"]?.arrayValue else { return nil }
        var questions: [DecisionRequest.Question] = []
        for item in list {
            guard let text = item["question"]?.stringValue else { continue }
            let options = (item["options"]?.arrayValue ?? []).compactMap { option -> DecisionRequest.Question.Option? in
                guard let label = option["label"]?.stringValue ?? option.stringValue else { return nil }
                return .init(label: label, description: option["description"]?.stringValue)
            }
            questions.append(.init(question: text, header: item["header"]?.stringValue, options: options,
                                   multiSelect: item["multiple"]?.boolValue ?? false))
        }
        let request = DecisionRequest(
            id: id, kind: .question, toolName: "Question", toolId: properties["tool"]?["callID"]?.stringValue,
            input: .object(["questions": .array(list)]),
            summary: oneLine(questions.map(\.question).joined(separator: " / ")),
            options: [Decision.answer, Decision.deny], questions: questions
        )
        return ServerDecision(request: request, route: .question)
    }

    /// The first line of `text`, at most 200 characters.
    static func oneLine(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }
}
