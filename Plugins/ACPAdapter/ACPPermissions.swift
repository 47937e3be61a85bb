import SwitchboardAdapterAPI

/// `session/request_permission` as a decision request, and the answer as the outcome the
/// agent expects.
///
/// The agent offers options of four kinds (`allow_once`, `allow_always`, `reject_once`,
/// `reject_always`) with ids of its own (`allow_once`, `approve`, `accept`, …). The request
/// offers `allow` when there is an `allow_once` option, `allow_session` when there is an
/// `allow_always` one, and always `deny`. The answer goes back as the exact `optionId` of the
/// first option of the chosen kind: `allow` → `allow_once`, `allow_session` → `allow_always`,
/// `deny` → `reject_once` (else `reject_always`); a deny the agent has no option for, and a
/// request withdrawn (interrupt, end of turn, dispose), go back as `cancelled`. ACP carries no
/// message with a refusal, so a deny's message is not passed on.
enum ACPPermissions {
    /// One option the agent offered.
    struct Option: Sendable, Equatable {
        var id: String
        var name: String
        var kind: String
    }

    /// The options of a request, in the agent's order.
    static func options(_ params: JSONValue) -> [Option] {
        (params["options"]?.arrayValue ?? []).compactMap { option in
            guard let id = option["optionId"]?.stringValue, let kind = option["kind"]?.stringValue else { return nil }
            return Option(id: id, name: option["name"]?.stringValue ?? id, kind: kind)
        }
    }

    /// The decision request for `params`, with id `id`. `kind` is the tool call's kind when
    /// the request does not repeat it; `root` resolves relative paths for the rules' subject.
    static func decisionRequest(id: String, params: JSONValue, knownKind: String?, root: String) -> DecisionRequest {
        let toolCall = params["toolCall"] ?? .object([:])
        let kind = toolCall["kind"]?.stringValue ?? knownKind
        let offered = options(params)
        var decisions: [String] = []
        if offered.contains(where: { $0.kind == "allow_once" }) { decisions.append(Decision.allow) }
        if offered.contains(where: { $0.kind == "allow_always" }) { decisions.append(Decision.allowSession) }
        decisions.append(Decision.deny)
        let input = toolCall["rawInput"].flatMap { $0.objectValue != nil ? $0 : nil } ?? .object([:])
        let subject = subject(kind: kind, input: input, locations: toolCall["locations"]?.arrayValue ?? [], root: root)
        let title = toolCall["title"]?.stringValue
        return DecisionRequest(
            id: id, toolName: ACPUpdateMapper.toolName(kind), toolId: toolCall["toolCallId"]?.stringValue, input: input,
            summary: summary(title: title == kind ? nil : title, subject: subject, input: input), options: decisions, subject: subject
        )
    }

    /// What the operator's rules match: a command's text for `execute`, a file's path
    /// (absolute) for the file kinds.
    static func subject(kind: String?, input: JSONValue, locations: [JSONValue], root: String) -> String? {
        switch kind {
        case "execute":
            if let command = input["command"]?.stringValue {
                let args = (input["args"]?.arrayValue ?? []).compactMap(\.stringValue)
                return ([command] + args).joined(separator: " ")
            }
            if let parts = input["command"]?.arrayValue?.compactMap(\.stringValue), !parts.isEmpty { return parts.joined(separator: " ") }
            return input["cmd"]?.stringValue
        case "read", "edit", "delete", "move", "search":
            let path = input["path"]?.stringValue ?? input["file_path"]?.stringValue ?? input["abs_path"]?.stringValue
                ?? locations.first?["path"]?.stringValue
            return path.map { $0.hasPrefix("/") ? ACPFileAccess.normalize($0) : ACPFileAccess.normalize(root + "/" + $0) }
        default:
            return nil
        }
    }

    /// One line for people: the title with the subject when they differ (a title that only
    /// repeats the kind is left out).
    static func summary(title: String?, subject: String?, input: JSONValue) -> String {
        let text: String
        switch (title, subject) {
        case let (title?, subject?) where title != subject: text = "\(title): \(subject)"
        case let (_, subject?): text = subject
        case let (title?, nil): text = title
        default: text = input.jsonText
        }
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// The `session/request_permission` result for an answer (`nil`: withdrawn).
    static func outcome(_ answer: DecisionAnswer?, options: [Option]) -> JSONValue {
        let cancelled: JSONValue = .object(["outcome": .object(["outcome": .string("cancelled")])])
        guard let answer else { return cancelled }
        let kinds: [String] = switch answer.decision {
        case Decision.allow: ["allow_once"]
        case Decision.allowSession: ["allow_always"]
        default: ["reject_once", "reject_always"]
        }
        for kind in kinds {
            if let option = options.first(where: { $0.kind == kind }) { return selected(option.id) }
        }
        return cancelled
    }

    /// The refusal when nobody can be asked (a host that does not answer decisions).
    static func refusal(options: [Option]) -> JSONValue {
        outcome(DecisionAnswer(id: "", decision: Decision.deny), options: options)
    }

    static func selected(_ optionId: String) -> JSONValue {
        .object(["outcome": .object(["outcome": .string("selected"), "optionId": .string(optionId)])])
    }
}
