import SwitchboardAdapterAPI

/// A script: what the scripted adapter does on each turn.
///
/// A script file is JSONL, one turn per line (blank lines and lines starting with `#` are
/// skipped). Each turn is an object with any of:
/// - `messages`: chat messages to emit, in order; each has `type`, `content`, optional
///   `messageId`, `toolName`, `toolId`, any extra fields, and `delayMs` to wait before it.
///   An element `{"ask": {…}}` instead asks for a decision and waits for the answer (see
///   ``Script/Ask``);
/// - `echo`: `true` to answer with the user's own text as an `assistant` message;
/// - `agentSessionId`: the agent session id to report at the start of the turn;
/// - `fail`: a reason; the turn ends with that error and status `error`;
/// - `hang`: `true` to keep the turn running until it is interrupted;
/// - `done`: an object of extra fields for the turn's `done` message (cost, token usage).
///
/// A turn that neither fails nor hangs ends with `done` (`Response complete`, with the
/// model in use as the extra field `model`, and the `done` fields) and status `idle`.
struct Script: Sendable {
    struct Step: Sendable {
        var delayMilliseconds: Int
        var message: ChatMessage?
        var ask: Ask?
    }

    /// A decision request in a turn:
    /// `{"ask": {"toolName": "Bash", "input": {"command": "touch x"}, "summary": "touch x",
    /// "options": ["allow", "deny"], "then": {"allow": [messages…], "deny": [messages…]}}}`.
    /// Optional: `kind` (`permission` or `question`, with `questions`), `id` (default
    /// `ask-<n>`), `toolId`, `subject` (default: the input's `command`, `file_path` or
    /// `path`). When the answer comes, the messages under `then.<decision>` play; without
    /// them a `tool_result` says the decision (`allow`, `deny: <message>`, or the answers as
    /// JSON). A request withdrawn by an interrupt ends the turn `interrupted`.
    struct Ask: Sendable {
        var request: DecisionRequest
        var explicitID: Bool
        var reactions: [String: [Step]]
    }

    struct Turn: Sendable {
        var steps: [Step] = []
        var echo = false
        var agentSessionId: String?
        var failure: String?
        var hang = false
        var doneExtra: [String: JSONValue] = [:]
    }

    var turns: [Turn]

    /// Parses the JSONL text of a script file. `origin` names it in errors.
    init(jsonl text: String, origin: String) throws(AdapterError) {
        var turns: [Turn] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                turns.append(try Turn(json: JSONValue(parsing: String(trimmed))))
            } catch let error as JSONError {
                throw AdapterError(.invalidSettings, "\(origin), line \(number + 1): \(error)")
            } catch {
                throw AdapterError(.invalidSettings, "\(origin), line \(number + 1): \(error)")
            }
        }
        self.turns = turns
    }

    /// One turn that echoes the user's text.
    init(echoing: Void) {
        turns = [Turn(echo: true)]
    }

    /// Takes the turns given inline in the settings.
    init(turns values: [JSONValue], origin: String) throws(AdapterError) {
        var turns: [Turn] = []
        for (index, value) in values.enumerated() {
            do {
                turns.append(try Turn(json: value))
            } catch {
                throw AdapterError(.invalidSettings, "\(origin)[\(index)]: \(error)")
            }
        }
        self.turns = turns
    }
}

extension Script.Turn {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    init(json: JSONValue) throws {
        guard let object = json.objectValue else { throw Invalid(description: "a turn must be an object, not \(json.kindDescription)") }
        for (key, value) in object {
            switch key {
            case "messages":
                guard let list = value.arrayValue else { throw Invalid(description: "'messages' must be an array") }
                steps = try list.enumerated().map { index, item in try Script.Step(json: item, index: index) }
            case "echo":
                guard let flag = value.boolValue else { throw Invalid(description: "'echo' must be true or false") }
                echo = flag
            case "hang":
                guard let flag = value.boolValue else { throw Invalid(description: "'hang' must be true or false") }
                hang = flag
            case "agentSessionId":
                guard let id = value.stringValue, !id.isEmpty else { throw Invalid(description: "'agentSessionId' must be a non-empty string") }
                agentSessionId = id
            case "done":
                guard let fields = value.objectValue else { throw Invalid(description: "'done' must be an object of extra fields") }
                doneExtra = fields
            case "fail":
                guard let reason = value.stringValue else { throw Invalid(description: "'fail' must be a string") }
                failure = reason
            default:
                throw Invalid(description: "unknown key '\(key)' (known: messages, echo, agentSessionId, fail, hang, done)")
            }
        }
    }
}

extension Script.Step {
    init(json: JSONValue, index: Int) throws {
        guard var object = json.objectValue else {
            throw Script.Turn.Invalid(description: "messages[\(index)] must be an object")
        }
        if let ask = object["ask"] {
            guard object.count == 1 else { throw Script.Turn.Invalid(description: "messages[\(index)]: an 'ask' element has no other keys") }
            self.init(delayMilliseconds: 0, message: nil, ask: try Script.Ask(json: ask, at: "messages[\(index)].ask"))
            return
        }
        var delay = 0
        if let value = object.removeValue(forKey: "delayMs") {
            guard let ms = value.intValue, ms >= 0 else {
                throw Script.Turn.Invalid(description: "messages[\(index)].delayMs must be a non-negative integer")
            }
            delay = ms
        }
        let message: ChatMessage
        do {
            message = try ChatMessage(jsonText: JSONValue.object(object).jsonText)
        } catch {
            throw Script.Turn.Invalid(description: "messages[\(index)]: \(error.reason)")
        }
        self.init(delayMilliseconds: delay, message: message, ask: nil)
    }
}

extension Script.Ask {
    init(json: JSONValue, at path: String) throws {
        guard var object = json.objectValue else { throw Script.Turn.Invalid(description: "\(path) must be an object") }
        var reactions: [String: [Script.Step]] = [:]
        if let then = object.removeValue(forKey: "then") {
            guard let map = then.objectValue else { throw Script.Turn.Invalid(description: "\(path).then must be an object: decision → messages") }
            for (decision, list) in map {
                guard let items = list.arrayValue else { throw Script.Turn.Invalid(description: "\(path).then.\(decision) must be an array of messages") }
                reactions[decision] = try items.enumerated().map { index, item in try Script.Step(json: item, index: index) }
            }
        }
        let explicitID = object["id"] != nil
        if object["id"] == nil { object["id"] = .string("ask") }
        if object["options"] == nil {
            let isQuestion = object["kind"]?.stringValue == DecisionRequest.Kind.question.rawValue
            object["options"] = .array((isQuestion ? [Decision.answer, Decision.deny] : [Decision.allow, Decision.deny]).map(JSONValue.string))
        }
        var request: DecisionRequest
        do {
            request = try DecisionRequest(json: .object(object))
        } catch {
            throw Script.Turn.Invalid(description: "\(path): \(error.reason)")
        }
        if request.subject == nil {
            request.subject = request.input["command"]?.stringValue ?? request.input["file_path"]?.stringValue ?? request.input["path"]?.stringValue
        }
        if request.summary.isEmpty { request.summary = request.subject ?? request.toolName }
        if let problem = request.problem {
            throw Script.Turn.Invalid(description: "\(path): \(problem)")
        }
        self.init(request: request, explicitID: explicitID, reactions: reactions)
    }
}
