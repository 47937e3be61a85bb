import SwitchboardAdapterAPI

/// What one app-server notification means for the session.
enum CodexEvent: Sendable, Equatable {
    /// A chat message to deliver.
    case message(ChatMessage)
    /// `turn/started`: the turn runs and can now be interrupted.
    case turnStarted(turnId: String)
    /// `turn/completed`: the turn ended.
    case turnEnded(CodexTurnEnd)
}

/// How a turn ended, from `turn/completed`.
enum CodexTurnEnd: Sendable, Equatable {
    /// It completed: the `done` message (usage, model) to deliver.
    case completed(ChatMessage)
    /// It was interrupted.
    case interrupted
    /// It failed: the `error` message to deliver.
    case failed(ChatMessage)
}

/// Turns `codex app-server` notifications (0.147.0) into ``CodexEvent``s. One mapper per
/// thread: it remembers what it streamed, which items are open, and the thread's token
/// totals, so a turn's usage is its own share.
///
/// Mapping (see `Docs/CodexAdapter.md`):
/// - `item/agentMessage/delta` → `assistant` with `messageId` = the item id; a completed
///   `agentMessage` that streamed no delta → one `assistant` with its full text.
/// - `commandExecution` items → `tool_use` `Bash` (`{"command","cwd"}`) and `tool_result`
///   (output, `exitCode`, `isError` when failed or declined); `fileChange` → `Edit` with the
///   changes (path, kind, diff); `mcpToolCall`, `dynamicToolCall`, `webSearch` likewise.
/// - Reasoning is never assistant text; user-message echoes are dropped.
/// - `error` with `willRetry` → a `system` notice; without, it becomes the turn's error
///   unless `turn/completed` carries one.
/// - `turn/completed` → `done` with `usage` (total now − total at turn start), `model`;
///   `interrupted` and `failed` first close every item left open.
struct CodexEventMapper: Sendable {
    private struct OpenItem: Sendable {
        var item: JSONValue
        var output = ""
    }

    /// The model the turns run with, for the `done` message.
    var model: String?
    /// The turn in progress, from `turn/started`.
    private(set) var turnId: String?
    /// Items started and not completed, by id, in the order they started.
    private var open: [String: OpenItem] = [:]
    private var openOrder: [String] = []
    /// Agent messages that streamed at least one delta.
    private var streamedMessages: Set<String> = []
    private var threadTotal: [String: Int] = [:]
    private var turnBaseline: [String: Int] = [:]
    private var contextWindow: Int?
    private var lastError: (message: String, info: JSONValue?)?

    init(model: String? = nil) { self.model = model }

    /// The item `id` as its `item/started` carried it, while it is open (for approvals,
    /// which name the item but not its command or diff).
    func openItem(_ id: String) -> JSONValue? { open[id]?.item }

    /// Maps one notification.
    mutating func map(method: String, params: JSONValue) -> [CodexEvent] {
        switch method {
        case "turn/started":
            let id = params["turn"]?["id"]?.stringValue ?? ""
            turnId = id
            turnBaseline = threadTotal
            streamedMessages = []
            lastError = nil
            return [.turnStarted(turnId: id)]
        case "item/started":
            return itemStarted(params["item"] ?? .null)
        case "item/agentMessage/delta":
            guard let id = params["itemId"]?.stringValue, let delta = params["delta"]?.stringValue, !delta.isEmpty else { return [] }
            streamedMessages.insert(id)
            return [.message(ChatMessage(type: .assistant, content: delta, messageId: id))]
        case "item/commandExecution/outputDelta":
            if let id = params["itemId"]?.stringValue, let delta = params["delta"]?.stringValue { open[id]?.output += delta }
            return []
        case "item/completed":
            return itemCompleted(params["item"] ?? .null)
        case "thread/tokenUsage/updated":
            if let total = params["tokenUsage"]?["total"]?.objectValue {
                threadTotal = total.compactMapValues(\.intValue)
            }
            if let window = params["tokenUsage"]?["modelContextWindow"]?.intValue { contextWindow = window }
            return []
        case "error":
            return errorNotice(params)
        case "warning", "configWarning", "deprecationNotice":
            let text = params["message"]?.stringValue ?? params["summary"]?.stringValue ?? params.jsonText
            return [.message(ChatMessage(type: .system, content: text))]
        case "turn/completed":
            return turnCompleted(params["turn"] ?? .null)
        default:
            return []  // status changes, diffs, reasoning, plans, goals, … carry nothing for the chat
        }
    }

    /// Closes every open tool item with a `tool_result` that says `why` (flagged as an
    /// error), and forgets the turn: for a turn the server ended without completing them,
    /// or a process that died.
    mutating func closeOpenItems(_ why: String) -> [ChatMessage] {
        let closing = openOrder.compactMap { id -> ChatMessage? in
            guard let entry = open[id], Self.toolName(entry.item) != nil else { return nil }
            var extra: [String: JSONValue] = ["isError": .bool(true), "status": .string("interrupted")]
            if !entry.output.isEmpty { extra["output"] = .string(entry.output) }
            return ChatMessage(type: .toolResult, content: why, toolId: id, extra: extra)
        }
        open = [:]
        openOrder = []
        turnId = nil
        return closing
    }

    // MARK: - Items

    private mutating func itemStarted(_ item: JSONValue) -> [CodexEvent] {
        guard let id = item["id"]?.stringValue, let type = item["type"]?.stringValue else { return [] }
        guard type != "userMessage" else { return [] }
        if open[id] == nil { openOrder.append(id) }
        open[id] = OpenItem(item: item)
        guard let name = Self.toolName(item) else { return [] }
        return [.message(ChatMessage(type: .toolUse, content: Self.toolInput(item).prettyText, toolName: name, toolId: id))]
    }

    private mutating func itemCompleted(_ item: JSONValue) -> [CodexEvent] {
        guard let id = item["id"]?.stringValue, let type = item["type"]?.stringValue else { return [] }
        let entry = open.removeValue(forKey: id)
        openOrder.removeAll { $0 == id }
        if type == "agentMessage" {
            guard !streamedMessages.contains(id), let text = item["text"]?.stringValue, !text.isEmpty else { return [] }
            var extra: [String: JSONValue] = [:]
            if let phase = item["phase"]?.stringValue { extra["phase"] = .string(phase) }
            return [.message(ChatMessage(type: .assistant, content: text, messageId: id, extra: extra))]
        }
        guard let name = Self.toolName(item) else { return [] }
        var events: [CodexEvent] = []
        if entry == nil {
            // Completed without a start we saw (a resumed or replayed item): pair it anyway.
            events.append(.message(ChatMessage(type: .toolUse, content: Self.toolInput(item).prettyText, toolName: name, toolId: id)))
        }
        events.append(.message(Self.toolResult(item, id: id, streamedOutput: entry?.output ?? "")))
        return events
    }

    /// The chat tool name of a tool item, or `nil` for items that are not tool calls.
    static func toolName(_ item: JSONValue) -> String? {
        switch item["type"]?.stringValue {
        case "commandExecution": return "Bash"
        case "fileChange": return "Edit"
        case "webSearch": return "WebSearch"
        case "mcpToolCall":
            let server = item["server"]?.stringValue ?? "mcp"
            return "\(server).\(item["tool"]?.stringValue ?? "tool")"
        case "dynamicToolCall": return item["tool"]?.stringValue ?? "tool"
        default: return nil
        }
    }

    /// A tool item's input, as the `tool_use` shows it.
    static func toolInput(_ item: JSONValue) -> JSONValue {
        switch item["type"]?.stringValue {
        case "commandExecution":
            var input: [String: JSONValue] = ["command": item["command"] ?? .null]
            if let cwd = item["cwd"] { input["cwd"] = cwd }
            return .object(input)
        case "fileChange":
            return .object(["changes": .array((item["changes"]?.arrayValue ?? []).map(change))])
        case "webSearch":
            return .object(["query": item["query"] ?? .null])
        default:
            return item["arguments"] ?? .object([:])
        }
    }

    /// One file change with its kind as a plain word (`add`, `delete`, `update`).
    private static func change(_ change: JSONValue) -> JSONValue {
        var flat: [String: JSONValue] = ["path": change["path"] ?? .null, "diff": change["diff"] ?? .string("")]
        let kind = change["kind"]
        flat["kind"] = kind?["type"] ?? kind ?? .null
        if let movePath = kind?["move_path"], movePath != .null { flat["movePath"] = movePath }
        return .object(flat)
    }

    private static func toolResult(_ item: JSONValue, id: String, streamedOutput: String) -> ChatMessage {
        let status = item["status"]?.stringValue ?? "completed"
        var extra: [String: JSONValue] = ["isError": .bool(status != "completed"), "status": .string(status)]
        if let duration = item["durationMs"]?.intValue { extra["durationMs"] = .int(duration) }
        let content: String
        switch item["type"]?.stringValue {
        case "commandExecution":
            if let code = item["exitCode"]?.intValue { extra["exitCode"] = .int(code) }
            // Output written before `item/started` can be missing from both; take the longer.
            let aggregated = item["aggregatedOutput"]?.stringValue ?? ""
            content = streamedOutput.count > aggregated.count ? streamedOutput : aggregated
        case "fileChange":
            let paths = (item["changes"]?.arrayValue ?? []).map { change -> String in
                let kind = change["kind"]?["type"]?.stringValue ?? change["kind"]?.stringValue ?? "change"
                return "\(kind) \(change["path"]?.stringValue ?? "?")"
            }
            content = ([status] + paths).joined(separator: "\n")
        case "mcpToolCall":
            if let error = item["error"]?["message"]?.stringValue {
                content = error
            } else {
                let parts = item["result"]?["content"]?.arrayValue ?? []
                content = parts.map { $0["text"]?.stringValue ?? $0.jsonText }.joined(separator: "\n")
            }
        case "dynamicToolCall":
            let parts = item["contentItems"]?.arrayValue ?? []
            content = parts.map { $0["text"]?.stringValue ?? $0.jsonText }.joined(separator: "\n")
        default:
            content = status
        }
        return ChatMessage(type: .toolResult, content: content, toolId: id, extra: extra)
    }

    // MARK: - Errors and the end of a turn

    private mutating func errorNotice(_ params: JSONValue) -> [CodexEvent] {
        let message = params["error"]?["message"]?.stringValue ?? params["message"]?.stringValue ?? "unknown error"
        if params["willRetry"]?.boolValue == true {
            var text = "Reconnecting: \(message)"
            if let details = params["error"]?["additionalDetails"]?.stringValue, !details.isEmpty { text += " (\(details))" }
            return [.message(ChatMessage(type: .system, content: text, extra: ["willRetry": .bool(true)]))]
        }
        lastError = (message, params["error"]?["codexErrorInfo"])
        return []
    }

    private mutating func turnCompleted(_ turn: JSONValue) -> [CodexEvent] {
        let status = turn["status"]?.stringValue ?? "completed"
        var events: [CodexEvent] = []
        switch status {
        case "completed":
            events += closeOpenItems("The turn ended before this tool finished.").map(CodexEvent.message)
            events.append(.turnEnded(.completed(doneMessage(turn))))
        case "interrupted":
            events += closeOpenItems("Interrupted").map(CodexEvent.message)
            events.append(.turnEnded(.interrupted))
        default:
            events += closeOpenItems("The turn failed before this tool finished.").map(CodexEvent.message)
            let message = turn["error"]?["message"]?.stringValue ?? lastError?.message ?? "Codex ended the turn with status '\(status)'."
            let info = turn["error"]?["codexErrorInfo"] ?? lastError?.info
            events.append(.turnEnded(.failed(Self.errorMessage(message, info: info))))
        }
        lastError = nil
        return events
    }

    /// The `error` message for a failed turn; an unauthorized one says how to log in.
    static func errorMessage(_ message: String, info: JSONValue?) -> ChatMessage {
        var extra: [String: JSONValue] = [:]
        if let info, info != .null { extra["codexErrorInfo"] = info }
        var content = message
        if info?.stringValue == "unauthorized" {
            content = "Codex is not logged in or its credentials were refused: \(message)\nRun `codex login` for this CODEX_HOME, or configure a model provider with an API key in its config.toml."
        }
        return ChatMessage(type: .error, content: content, extra: extra)
    }

    private func doneMessage(_ turn: JSONValue) -> ChatMessage {
        var extra: [String: JSONValue] = [:]
        if let model { extra["model"] = .string(model) }
        var usage: [String: JSONValue] = [:]
        for (key, total) in threadTotal {
            let (share, overflow) = total.subtractingReportingOverflow(turnBaseline[key] ?? 0)
            usage[key] = .int(overflow ? 0 : max(0, share))
        }
        if !usage.isEmpty { extra["usage"] = .object(usage) }
        if !threadTotal.isEmpty { extra["threadUsage"] = .object(threadTotal.mapValues(JSONValue.int)) }
        if let contextWindow { extra["modelContextWindow"] = .int(contextWindow) }
        if let duration = turn["durationMs"]?.intValue { extra["durationMs"] = .int(duration) }
        return ChatMessage(type: .done, content: "Response complete", extra: extra)
    }
}
