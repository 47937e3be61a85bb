/// The JSON form of decision requests and answers, as they cross the plugin boundary (see
/// `switchboard_abi.h`). Requests are rare, so these go through ``JSONValue``.
extension DecisionRequest {
    /// `{"id":…,"kind":"permission","toolName":…,"toolId"?:…,"input":{…},"summary":…,"options":[…],"subject"?:…,"questions"?:[…]}`.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id),
            "kind": .string(kind.rawValue),
            "toolName": .string(toolName),
            "input": input,
            "summary": .string(summary),
            "options": .array(options.map(JSONValue.string)),
        ]
        if let toolId { object["toolId"] = .string(toolId) }
        if let subject { object["subject"] = .string(subject) }
        if !questions.isEmpty { object["questions"] = .array(questions.map(\.jsonValue)) }
        return .object(object)
    }

    /// Reads a request; unknown keys are ignored.
    /// - Throws: ``JSONError`` naming the first missing or mistyped field.
    public init(json: JSONValue) throws(JSONError) {
        guard let object = json.objectValue else { throw Self.invalid("a request must be an object, not \(json.kindDescription)") }
        func string(_ key: String) throws(JSONError) -> String {
            guard let value = object[key]?.stringValue else { throw Self.invalid("the request's '\(key)' must be a string") }
            return value
        }
        func optionalString(_ key: String) throws(JSONError) -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard let text = value.stringValue else { throw Self.invalid("the request's '\(key)' must be a string") }
            return text
        }
        let kindName = try optionalString("kind") ?? Kind.permission.rawValue
        guard let kind = Kind(rawValue: kindName) else {
            throw Self.invalid("the request's kind '\(kindName)' is not one of permission, question")
        }
        guard let optionValues = object["options"]?.arrayValue else { throw Self.invalid("the request's 'options' must be an array of strings") }
        var options: [String] = []
        for value in optionValues {
            guard let option = value.stringValue else { throw Self.invalid("the request's 'options' must be an array of strings") }
            options.append(option)
        }
        var questions: [Question] = []
        if let list = object["questions"], list != .null {
            guard let values = list.arrayValue else { throw Self.invalid("the request's 'questions' must be an array") }
            for value in values { questions.append(try Question(json: value)) }
        }
        self.init(
            id: try string("id"), kind: kind, toolName: try string("toolName"), toolId: try optionalString("toolId"),
            input: object["input"] ?? .object([:]), summary: try optionalString("summary") ?? "",
            options: options, subject: try optionalString("subject"), questions: questions
        )
    }

    static func invalid(_ reason: String) -> JSONError { JSONError(offset: 0, reason: reason) }
}

extension DecisionRequest.Question {
    /// `{"question":…,"header"?:…,"options":[{"label":…,"description"?:…}],"multiSelect":false}`.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "question": .string(question),
            "options": .array(options.map { option in
                var o: [String: JSONValue] = ["label": .string(option.label)]
                if let description = option.description { o["description"] = .string(description) }
                return .object(o)
            }),
            "multiSelect": .bool(multiSelect),
        ]
        if let header { object["header"] = .string(header) }
        return .object(object)
    }

    /// Reads a question in the form of ``jsonValue`` (Claude's `AskUserQuestion` input uses
    /// the same keys).
    public init(json: JSONValue) throws(JSONError) {
        guard let object = json.objectValue, let question = object["question"]?.stringValue else {
            throw DecisionRequest.invalid("a question must be an object with a 'question' string")
        }
        var options: [Option] = []
        for value in object["options"]?.arrayValue ?? [] {
            if let label = value.stringValue {
                options.append(Option(label: label))
            } else if let label = value["label"]?.stringValue {
                options.append(Option(label: label, description: value["description"]?.stringValue))
            } else {
                throw DecisionRequest.invalid("the options of question '\(question)' must be strings or objects with a 'label'")
            }
        }
        self.init(question: question, header: object["header"]?.stringValue, options: options,
                  multiSelect: object["multiSelect"]?.boolValue ?? false)
    }
}

extension DecisionAnswer {
    /// `{"id":…,"decision":"allow","message"?:…,"answers"?:{…}}`.
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id), "decision": .string(decision)]
        if let message { object["message"] = .string(message) }
        if !answers.isEmpty { object["answers"] = .object(answers.mapValues(JSONValue.string)) }
        return .object(object)
    }

    /// Reads an answer in the form of ``jsonValue``.
    public init(json: JSONValue) throws(JSONError) {
        guard let object = json.objectValue else { throw DecisionRequest.invalid("an answer must be an object, not \(json.kindDescription)") }
        guard let id = object["id"]?.stringValue else { throw DecisionRequest.invalid("the answer's 'id' must be a string") }
        guard let decision = object["decision"]?.stringValue else { throw DecisionRequest.invalid("the answer's 'decision' must be a string") }
        var answers: [String: String] = [:]
        if let value = object["answers"], value != .null {
            guard let map = value.objectValue else { throw DecisionRequest.invalid("the answer's 'answers' must be an object") }
            for (question, answer) in map {
                guard let text = answer.stringValue else { throw DecisionRequest.invalid("the answer to '\(question)' must be a string") }
                answers[question] = text
            }
        }
        let message = object["message"]?.stringValue
        self.init(id: id, decision: decision, message: message, answers: answers)
    }
}
