import SwitchboardAdapterAPI

/// The CLI's permission prompts (`--permission-prompt-tool=stdio`) as decision requests, and
/// the answers as the `control_response` lines the CLI expects.
///
/// The CLI writes, when a tool needs permission:
/// `{"type":"control_request","request_id":"<uuid>","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{…},"permission_suggestions":[…],…}}`
/// and waits for `{"type":"control_response","response":{"subtype":"success","request_id":"<uuid>","response":{"behavior":"allow","updatedInput":{…}}}}`
/// (or `"behavior":"deny","message":…`). A question (`AskUserQuestion`) comes the same way;
/// its answer is an allow whose `updatedInput` adds `"answers": {question: label}`.
enum ClaudePermissions {
    /// The tools whose subject (for the operator's rules) is a file path.
    static let fileTools: Set<String> = ["Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "Glob", "Grep", "LS"]

    /// The decision request for a `can_use_tool` request, or `nil` for another subtype.
    static func decisionRequest(id: String, _ request: [String: JSONValue]) -> DecisionRequest? {
        guard request["subtype"]?.stringValue == "can_use_tool" else { return nil }
        let tool = request["tool_name"]?.stringValue ?? "unknown"
        let input = request["input"] ?? .object([:])
        let toolId = request["tool_use_id"]?.stringValue
        if tool == "AskUserQuestion", let list = input["questions"]?.arrayValue {
            let questions = list.compactMap { try? DecisionRequest.Question(json: $0) }
            if !questions.isEmpty {
                return DecisionRequest(
                    id: id, kind: .question, toolName: tool, toolId: toolId, input: input,
                    summary: questions.map(\.question).joined(separator: " / "),
                    options: [Decision.answer, Decision.deny], questions: questions
                )
            }
        }
        let subject = subject(tool: tool, input: input)
        var options = [Decision.allow]
        if let suggestions = request["permission_suggestions"]?.arrayValue, !suggestions.isEmpty {
            options.append(Decision.allowSession)
        }
        options.append(Decision.deny)
        let description = request["description"]?.stringValue ?? input["description"]?.stringValue
        return DecisionRequest(
            id: id, toolName: tool, toolId: toolId, input: input,
            summary: summary(subject: subject, description: description, tool: tool, input: input),
            options: options, subject: subject
        )
    }

    /// What the rules match: a shell tool's command, a file tool's path.
    static func subject(tool: String, input: JSONValue) -> String? {
        if tool == "Bash" { return input["command"]?.stringValue }
        if fileTools.contains(tool) {
            return input["file_path"]?.stringValue ?? input["notebook_path"]?.stringValue ?? input["path"]?.stringValue
                ?? input["pattern"]?.stringValue
        }
        return nil
    }

    /// One line for people: the subject, else the CLI's description, else the input.
    static func summary(subject: String?, description: String?, tool: String, input: JSONValue) -> String {
        let text = subject ?? description ?? input.jsonText
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// The `control_response` line for an answer (`nil`: the request was withdrawn, which the
    /// CLI gets as a deny).
    static func response(requestId: String, request: [String: JSONValue], answer: DecisionAnswer?) -> [UInt8] {
        let input = request["input"] ?? .object([:])
        var body: [String: JSONValue]
        switch answer?.decision {
        case Decision.allow?, Decision.allowSession?:
            body = ["behavior": .string("allow"), "updatedInput": input]
            if answer?.decision == Decision.allowSession, let suggestions = request["permission_suggestions"]?.arrayValue {
                body["updatedPermissions"] = .array(suggestions.map(sessionScoped))
            }
        case Decision.answer?:
            var updated = input.objectValue ?? [:]
            updated["answers"] = .object((answer?.answers ?? [:]).mapValues(JSONValue.string))
            body = ["behavior": .string("allow"), "updatedInput": .object(updated)]
        default:
            let message = answer?.message ?? (answer == nil ? "The request was withdrawn (the turn was interrupted or ended)." : "Denied by the user.")
            body = ["behavior": .string("deny"), "message": .string(message)]
        }
        return line(["subtype": .string("success"), "request_id": .string(requestId), "response": .object(body)])
    }

    /// A permission suggestion kept for this session only. The CLI proposes some for its
    /// `localSettings` (a settings file that outlives the session, found by walking up from
    /// the project: verified with 2.1.327, which wrote the rule to a parent directory's
    /// `.claude/settings.local.json`); "allow for this session" must not write files.
    static func sessionScoped(_ suggestion: JSONValue) -> JSONValue {
        guard var object = suggestion.objectValue else { return suggestion }
        object["destination"] = .string("session")
        return .object(object)
    }

    /// The `control_response` refusing a request the adapter does not handle.
    static func refusal(requestId: String, subtype: String) -> [UInt8] {
        line([
            "subtype": .string("error"), "request_id": .string(requestId),
            "error": .string("Switchboard does not handle '\(subtype)' control requests."),
        ])
    }

    private static func line(_ response: [String: JSONValue]) -> [UInt8] {
        Array((JSONValue.object(["type": .string("control_response"), "response": .object(response)]).jsonText + "\n").utf8)
    }
}
