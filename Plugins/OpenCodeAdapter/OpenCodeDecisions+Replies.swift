import SwitchboardAdapterAPI

extension ServerDecision {
    /// The `POST` that delivers `answer` to the server: its path (ids percent-encoded) and body.
    ///
    /// Permissions: `allow` → `once`, `allow_session` → `always`, anything else → `reject`
    /// (with the answer's message on the new route; the old route has no place for it).
    /// Questions: `answer` → the answers in the order of the questions; anything else →
    /// the reject route, which carries no message.
    func reply(to answer: DecisionAnswer) -> (path: String, body: String?) {
        let encodedID = OpenCodeAgent.percentEncoded(id)
        switch route {
        case .legacyPermission(let sessionID):
            let body: JSONValue = .object(["response": .string(Self.permissionReply(answer.decision))])
            return ("/session/\(OpenCodeAgent.percentEncoded(sessionID))/permissions/\(encodedID)", body.jsonText)
        case .permission:
            let reply = Self.permissionReply(answer.decision)
            var body: [String: JSONValue] = ["reply": .string(reply)]
            if reply == "reject", let message = answer.message, !message.isEmpty { body["message"] = .string(message) }
            return ("/permission/\(encodedID)/reply", JSONValue.object(body).jsonText)
        case .question:
            guard answer.decision == Decision.answer else { return ("/question/\(encodedID)/reject", nil) }
            let body: JSONValue = .object(["answers": Self.answers(request.questions, answer.answers)])
            return ("/question/\(encodedID)/reply", body.jsonText)
        }
    }

    /// OpenCode's word for a permission decision.
    static func permissionReply(_ decision: String) -> String {
        switch decision {
        case Decision.allow: "once"
        case Decision.allowSession: "always"
        default: "reject"
        }
    }

    /// A question request's answers as OpenCode wants them: one array of labels per
    /// question, in the questions' order. A person's answer to a multiple-choice question
    /// that lists several of its labels (`"A, B"`) becomes those labels; any other answer is
    /// taken as given (OpenCode accepts an answer in the person's own words); no answer is
    /// an empty array.
    static func answers(_ questions: [DecisionRequest.Question], _ given: [String: String]) -> JSONValue {
        .array(questions.map { question in
            guard let text = given[question.question]?.trimmingSpaces, !text.isEmpty else { return .array([]) }
            let labels = Set(question.options.map(\.label))
            if question.multiSelect, !labels.contains(text) {
                let parts = text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
                if parts.count > 1, parts.allSatisfy(labels.contains) { return .array(parts.map(JSONValue.string)) }
            }
            return .array([.string(text)])
        })
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
