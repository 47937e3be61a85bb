import SwitchboardAdapterAPI

/// Turns ACP `session/update` notifications into chat messages. One mapper per agent
/// process: it remembers the message being streamed, the tool calls and their state, the
/// session's modes and config options, and the usage the agent reported.
///
/// Mapping (see `Docs/ACPAdapter.md`):
/// - `agent_message_chunk` → `assistant` deltas sharing one `messageId` per message (the
///   agent's `messageId` when it sends one, else `acp-<turn>-<n>`, a new one after anything
///   else came between); empty chunks are dropped.
/// - `agent_thought_chunk` → collected and delivered as one `system` message with
///   `"thought": true` when the thought ends: never assistant text.
/// - `tool_call` / `tool_call_update` → `tool_use` (`toolName` = the ACP kind, content the raw
///   input, `title`, `kind`) once the input is known or the call leaves `pending`, and
///   `tool_result` when it is `completed` or `failed` (`isError`), with its text, diffs
///   (`diff`) and terminal output.
/// - `plan` → a `system` message listing the entries (`plan`).
/// - `usage_update` → the context usage on the next `done` (`context`).
/// - `current_mode_update`, `config_option_update` → the session's state (a mode change is
///   also a `system` notice); `session_info_update` → its title; `user_message_chunk` (the
///   echo of the person's message) and `available_commands_update` → nothing.
/// - While a session is loaded or resumed its replay is counted, not shown: the session's
///   own history already has it.
struct ACPUpdateMapper: Sendable {
    /// One tool call as the updates left it.
    struct Tool: Sendable {
        var kind: String?
        var title: String?
        var status = "pending"
        var rawInput: JSONValue?
        var rawOutput: JSONValue?
        var content: [JSONValue] = []
        var locations: [JSONValue] = []
        var announced = false
        var finished = false
    }

    /// The session's modes, config options and models.
    var setup = ACPProtocol.SessionSetup()
    /// The session's title, when the agent gave one.
    private(set) var title: String?
    /// Whether a `session/load` or `session/resume` is replaying the history.
    var replaying = false
    /// Updates received during a replay.
    private(set) var replayedUpdates = 0
    /// Whether a turn is in progress (its `session/prompt` not yet answered).
    private(set) var inTurn = false
    private var turnNumber = 0
    private var messageNumber = 0
    private var messageId: String?
    private var thought: (id: String, text: String)?
    private(set) var tools: [String: Tool] = [:]
    private var toolOrder: [String] = []
    /// Non-empty assistant chunks and tool calls in the current turn.
    private(set) var textChunks = 0
    private(set) var toolCalls = 0
    /// The last `usage_update`.
    private(set) var context: JSONValue?
    /// Resolves a terminal id to its output (terminals are the client's own).
    var terminalOutput: @Sendable (String) -> String? = { _ in nil }

    init() {}

    // MARK: - Turns

    /// A turn starts: new message ids; tool calls a previous turn left open are closed.
    mutating func beginTurn() -> [ChatMessage] {
        let closing = closeOpenTools("The agent did not report how this tool ended.")
        turnNumber += 1
        messageNumber = 0
        messageId = nil
        textChunks = 0
        toolCalls = 0
        inTurn = true
        return closing
    }

    /// The turn's `session/prompt` was answered: what is still collected is delivered.
    mutating func endTurn() -> [ChatMessage] {
        inTurn = false
        messageId = nil
        return flushThought()
    }

    // MARK: - Updates

    /// Maps one `session/update`'s `update` object.
    mutating func map(_ update: JSONValue) -> [ChatMessage] {
        guard !replaying else {
            replayedUpdates += 1
            apply(state: update)
            return []
        }
        let kind = update["sessionUpdate"]?.stringValue ?? ""
        var out: [ChatMessage] = []
        if kind != "agent_thought_chunk" { out += flushThought() }
        switch kind {
        case "agent_message_chunk":
            let text = Self.text(of: update["content"])
            guard !text.isEmpty else { break }
            textChunks += 1
            let id = update["messageId"]?.stringValue ?? messageId ?? nextMessageId()
            messageId = id
            out.append(ChatMessage(type: .assistant, content: text, messageId: id))
        case "agent_thought_chunk":
            messageId = nil
            let text = Self.text(of: update["content"])
            guard !text.isEmpty else { break }
            if thought == nil { thought = (update["messageId"]?.stringValue ?? nextMessageId("thought"), "") }
            thought?.text += text
        case "tool_call", "tool_call_update":
            messageId = nil
            out += toolUpdate(update, isNew: kind == "tool_call")
        case "plan":
            messageId = nil
            let entries = update["entries"]?.arrayValue ?? []
            out.append(ChatMessage(type: .system, content: Self.planText(entries), extra: ["plan": .array(entries)]))
        case "current_mode_update":
            let previous = setup.currentMode
            apply(state: update)
            if let mode = setup.currentMode, mode != previous {
                let name = setup.modeNames[mode].map { "\($0) (\(mode))" } ?? mode
                out.append(ChatMessage(type: .system, content: "The agent is now in mode \(name).", extra: ["mode": .string(mode)]))
            }
        default:
            apply(state: update)
        }
        return out
    }

    /// The updates that change the session's state rather than the chat (also during a replay).
    private mutating func apply(state update: JSONValue) {
        switch update["sessionUpdate"]?.stringValue {
        case "current_mode_update":
            if let mode = update["currentModeId"]?.stringValue ?? update["modeId"]?.stringValue {
                if let option = setup.modeOption, let index = setup.configOptions.firstIndex(where: { $0.id == option.id }) {
                    setup.configOptions[index].currentValue = .string(mode)
                }
                setup.currentModeId = mode
            }
        case "config_option_update":
            if let options = ACPProtocol.ConfigOption.list(update["configOptions"]) { setup.configOptions = options }
        case "session_info_update":
            if let title = update["title"]?.stringValue { self.title = title }
        case "usage_update":
            var usage: [String: JSONValue] = [:]
            for key in ["used", "size", "cost"] { if let value = update[key], value != .null { usage[key] = value } }
            if !usage.isEmpty { context = .object(usage) }
        default:
            break
        }
    }

    /// A permission request names `toolCall`: its input is known now, so the call is shown
    /// before the question about it.
    mutating func announce(_ toolCall: JSONValue) -> [ChatMessage] {
        guard !replaying, toolCall["toolCallId"]?.stringValue != nil else { return [] }
        var out = flushThought()
        messageId = nil
        out += toolUpdate(toolCall, isNew: false, forceAnnounce: true)
        return out
    }

    /// The tool kind of a known call (`execute`, `edit`, …).
    func toolKind(_ id: String) -> String? { tools[id]?.kind }

    /// Closes every tool call that has not finished with a `tool_result` that says `why`
    /// (flagged as an error): for a turn that was interrupted, or a process that ended.
    mutating func closeOpenTools(_ why: String) -> [ChatMessage] {
        var out: [ChatMessage] = []
        for id in toolOrder {
            guard var tool = tools[id], !tool.finished else { continue }
            if !tool.announced { out.append(Self.toolUse(id, tool)) }
            tool.finished = true
            tool.announced = true
            tools[id] = tool
            out.append(ChatMessage(type: .toolResult, content: why, toolId: id,
                                   extra: ["isError": .bool(true), "status": .string("interrupted")]))
        }
        toolOrder = toolOrder.filter { tools[$0]?.finished == false }
        tools = tools.filter { !$0.value.finished }
        return out
    }

    /// The extra fields of the turn's `done` message: the context usage, when reported.
    var contextUsage: JSONValue? { context }

    // MARK: - Tool calls

    private mutating func toolUpdate(_ update: JSONValue, isNew: Bool, forceAnnounce: Bool = false) -> [ChatMessage] {
        guard let id = update["toolCallId"]?.stringValue else { return [] }
        var tool = tools[id] ?? Tool()
        if tools[id] == nil {
            toolOrder.append(id)
            if inTurn { toolCalls += 1 }
        }
        if isNew { tool.finished = false }
        if let kind = update["kind"]?.stringValue { tool.kind = kind }
        if let title = update["title"]?.stringValue { tool.title = title }
        if let status = update["status"]?.stringValue { tool.status = status }
        if let input = update["rawInput"], input != .null { tool.rawInput = input }
        if let output = update["rawOutput"], output != .null { tool.rawOutput = output }
        if let content = update["content"]?.arrayValue, !content.isEmpty { tool.content = content }
        if let locations = update["locations"]?.arrayValue, !locations.isEmpty { tool.locations = locations }
        var out: [ChatMessage] = []
        guard !tool.finished else {
            tools[id] = tool
            return out
        }
        let done = tool.status == "completed" || tool.status == "failed"
        if !tool.announced && (forceAnnounce || tool.rawInput != nil || tool.status != "pending") {
            tool.announced = true
            out.append(Self.toolUse(id, tool))
        }
        if done {
            tool.finished = true
            out.append(toolResult(id, tool))
        }
        tools[id] = tool
        return out
    }

    private static func toolUse(_ id: String, _ tool: Tool) -> ChatMessage {
        var extra: [String: JSONValue] = [:]
        if let title = tool.title { extra["title"] = .string(title) }
        if let kind = tool.kind { extra["kind"] = .string(kind) }
        if !tool.locations.isEmpty { extra["locations"] = .array(tool.locations) }
        let content = tool.rawInput.map { $0.prettyText } ?? tool.title ?? ""
        return ChatMessage(type: .toolUse, content: content, toolName: toolName(tool.kind), toolId: id, extra: extra)
    }

    /// The chat tool name of a call: its ACP kind (`execute`, `edit`, `read`, …; `other`
    /// when the agent gave none). Approval rules match it.
    static func toolName(_ kind: String?) -> String { kind.flatMap { $0.isEmpty ? nil : $0 } ?? "other" }

    private func toolResult(_ id: String, _ tool: Tool) -> ChatMessage {
        var extra: [String: JSONValue] = ["isError": .bool(tool.status == "failed"), "status": .string(tool.status)]
        if let title = tool.title { extra["title"] = .string(title) }
        var texts: [String] = []
        var diffs: [JSONValue] = []
        for block in tool.content {
            switch block["type"]?.stringValue {
            case "content":
                let text = Self.text(of: block["content"])
                if !text.isEmpty { texts.append(text) }
            case "diff":
                diffs.append(block)
                let path = block["path"]?.stringValue ?? "?"
                let isNew = block["oldText"] == nil || block["oldText"] == .null
                texts.append("\(isNew ? "Created" : "Edited") \(path)")
            case "terminal":
                if let terminal = block["terminalId"]?.stringValue, let output = terminalOutput(terminal) {
                    texts.append(output)
                }
            default:
                break
            }
        }
        if !diffs.isEmpty { extra["diff"] = .array(diffs) }
        if texts.isEmpty, let output = tool.rawOutput {
            texts.append(output.stringValue ?? output.prettyText)
        }
        let content = texts.isEmpty ? tool.status : texts.joined(separator: "\n")
        return ChatMessage(type: .toolResult, content: content, toolId: id, extra: extra)
    }

    // MARK: - Helpers

    private mutating func nextMessageId(_ kind: String = "msg") -> String {
        messageNumber += 1
        return "acp-\(kind)-\(turnNumber)-\(messageNumber)"
    }

    private mutating func flushThought() -> [ChatMessage] {
        guard let thought else { return [] }
        self.thought = nil
        return [ChatMessage(type: .system, content: thought.text, messageId: thought.id, extra: ["thought": .bool(true)])]
    }

    /// The text of a content block: text as it is, other kinds as a short placeholder.
    static func text(of block: JSONValue?) -> String {
        guard let block else { return "" }
        switch block["type"]?.stringValue {
        case "text", nil:
            return block["text"]?.stringValue ?? ""
        case "resource_link":
            let name = block["name"]?.stringValue ?? block["uri"]?.stringValue ?? "resource"
            return block["uri"]?.stringValue.map { "[\(name)](\($0))" } ?? name
        case "resource":
            return block["resource"]?["text"]?.stringValue ?? block["resource"]?["uri"]?.stringValue ?? "[resource]"
        case let other?:
            return "[\(other)]"
        }
    }

    /// A plan as lines: `[x]` done, `[>]` in progress, `[ ]` pending.
    static func planText(_ entries: [JSONValue]) -> String {
        let lines = entries.map { entry -> String in
            let mark = switch entry["status"]?.stringValue {
            case "completed": "[x]"
            case "in_progress": "[>]"
            default: "[ ]"
            }
            return "\(mark) \(entry["content"]?.stringValue ?? "")"
        }
        return (["Plan:"] + lines).joined(separator: "\n")
    }
}
