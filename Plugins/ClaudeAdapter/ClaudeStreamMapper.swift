import SwitchboardAdapterAPI

/// What one line of `claude`'s `stream-json` output means for the session.
enum ClaudeStreamEvent: Sendable, Equatable {
    /// A chat message to deliver.
    case message(ChatMessage)
    /// The agent session id from a `system/init` line (every turn has one).
    case sessionId(String)
    /// The turn ended (`result` line).
    case result(ClaudeTurnResult)
    /// The answer to a control request the adapter wrote (e.g. an interrupt).
    case controlResponse(requestId: String, error: String?)
    /// A request from the CLI (`can_use_tool` when a tool needs permission); it waits for
    /// a `control_response` with the same `request_id`.
    case controlRequest(requestId: String, request: [String: JSONValue])
    /// The CLI no longer waits for the answer to one of its requests.
    case controlCancel(requestId: String)
}

/// The `result` line that ends each turn.
struct ClaudeTurnResult: Sendable, Equatable {
    /// Whether the turn failed. Judged by `is_error`, not `subtype`: a missing login arrives
    /// as `subtype:"success", is_error:true`.
    var isError: Bool
    /// `success`, `error_during_execution`, `error_max_turns`, ….
    var subtype: String?
    /// The CLI's `result` text: the reply, or the error in the CLI's words.
    var text: String?
    /// The CLI's `errors` list (e.g. `No conversation found with session ID: …`).
    var errors: [String] = []
    /// The cost of this turn in US dollars (the CLI reports a running total per process).
    var costUsd: Double?
    /// The CLI's running total for the process, as written.
    var totalCostUsd: JSONValue?
    /// Token counts of the turn, camel-cased.
    var usage: [String: JSONValue] = [:]
    /// The turn's duration as the CLI measured it.
    var durationMilliseconds: Int?
    /// Output lines skipped during the turn (not JSON, or of an unknown type).
    var skippedLines = 0

    /// The CLI's own description of the failure.
    var errorText: String {
        if let text, !text.isEmpty { return text }
        if !errors.isEmpty { return errors.joined(separator: "\n") }
        return "claude ended the turn with an error (\(subtype ?? "no details"))."
    }

    /// The extra fields of the `done` (or `error`) message: cost and token usage.
    var extraFields: [String: JSONValue] {
        var extra: [String: JSONValue] = [:]
        if let costUsd { extra["costUsd"] = .number(ClaudeStreamMapper.format(costUsd)) }
        if let totalCostUsd { extra["totalCostUsd"] = totalCostUsd }
        if !usage.isEmpty { extra["usage"] = .object(usage) }
        if let durationMilliseconds { extra["durationMs"] = .int(durationMilliseconds) }
        if skippedLines > 0 { extra["skippedLines"] = .int(skippedLines) }
        return extra
    }

    /// `done` with `Response complete`, or `error` with the CLI's text.
    var message: ChatMessage {
        isError
            ? ChatMessage(type: .error, content: errorText, extra: extraFields)
            : ChatMessage(type: .done, content: "Response complete", extra: extraFields)
    }
}

/// Turns `claude -p --output-format=stream-json --verbose --include-partial-messages`
/// output lines into ``ClaudeStreamEvent``s. One mapper per process: it remembers what it
/// has streamed, so the full `assistant` line that repeats streamed text emits nothing new.
///
/// Mapping:
/// - `system/init` → ``ClaudeStreamEvent/sessionId(_:)`` on every init, and a `system`
///   message `Session started: <first 8 chars>...` on the process's first init (or when
///   the id changes).
/// - `stream_event` text deltas → `assistant` messages with `messageId` = the API message id.
/// - `assistant` lines: `tool_use` blocks → `tool_use` (`toolName`, `toolId`, input as pretty
///   JSON); text blocks → only the part not already streamed.
/// - `user` lines: `tool_result` blocks → `tool_result` (`toolId`, text, extra `isError`).
/// - `result` → ``ClaudeStreamEvent/result(_:)``.
/// - `control_request` / `control_cancel_request` → ``ClaudeStreamEvent/controlRequest(requestId:request:)``
///   / ``ClaudeStreamEvent/controlCancel(requestId:)`` (the adapter answers them).
/// - Lines that are not JSON objects, or of an unknown type, are skipped and counted.
struct ClaudeStreamMapper: Sendable {
    /// Lines skipped because they were not JSON objects with a `type`, or of an unknown type.
    private(set) var skippedLineCount = 0
    /// ``skippedLineCount`` when the last turn ended.
    private var skippedAtLastResult = 0
    /// The agent session id from the last `init`.
    private(set) var sessionId: String?
    private var announcedSessionId: String?
    /// The API message whose stream events are arriving.
    private var currentMessageId: String?
    /// Per API message id: the text streamed for each content block index.
    private var streamed: [String: [Int: String]] = [:]
    /// Per API message id: how many text blocks its `assistant` lines have carried so far.
    private var assistantTextBlocks: [String: Int] = [:]
    /// Texts of messages the CLI made up itself (`model: "<synthetic>"`), held until the turn
    /// ends: when the turn fails with the same text they would only repeat the error.
    private var heldSynthetic: [ChatMessage] = []
    private var lastTotalCost: Double?

    /// Types the CLI writes that carry nothing for clients; skipped without counting.
    static let ignoredTypes: Set<String> = [
        "keep_alive", "rate_limit_event", "tool_progress", "auth_status",
        "streamlined_text", "streamlined_tool_use_summary",
    ]

    init() {}

    /// Maps one line (without its newline).
    mutating func map(_ line: UnsafeBufferPointer<UInt8>) -> [ClaudeStreamEvent] {
        guard let value = try? JSONValue(parsing: line), let object = value.objectValue,
              let type = object["type"]?.stringValue
        else {
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { skippedLineCount += 1 }
            return []
        }
        switch type {
        case "stream_event": return streamEvent(object)
        case "assistant": return assistant(object)
        case "user": return user(object)
        case "system": return system(object)
        case "result": return result(object)
        case "control_response": return controlResponse(object)
        case "control_request":
            guard let id = object["request_id"]?.stringValue, let request = object["request"]?.objectValue else {
                skippedLineCount += 1
                return []
            }
            return [.controlRequest(requestId: id, request: request)]
        case "control_cancel_request":
            guard let id = object["request_id"]?.stringValue else { return [] }
            return [.controlCancel(requestId: id)]
        default:
            if !Self.ignoredTypes.contains(type) { skippedLineCount += 1 }
            return []
        }
    }

    /// Maps one line given as text (for tests).
    mutating func map(_ line: String) -> [ClaudeStreamEvent] {
        var copy = line
        return copy.withUTF8 { map($0) }
    }

    private mutating func system(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        guard object["subtype"]?.stringValue == "init", let id = object["session_id"]?.stringValue, !id.isEmpty else {
            return []
        }
        sessionId = id
        var events: [ClaudeStreamEvent] = [.sessionId(id)]
        if announcedSessionId != id {
            announcedSessionId = id
            events.append(.message(ChatMessage(type: .system, content: "Session started: \(id.prefix(8))...")))
        }
        return events
    }

    private mutating func streamEvent(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        guard let event = object["event"]?.objectValue, let kind = event["type"]?.stringValue else { return [] }
        switch kind {
        case "message_start":
            currentMessageId = event["message"]?["id"]?.stringValue ?? object["api_message_id"]?.stringValue
        case "content_block_delta":
            guard let delta = event["delta"]?.objectValue, delta["type"]?.stringValue == "text_delta",
                  let text = delta["text"]?.stringValue, !text.isEmpty
            else { return [] }
            let messageId = object["api_message_id"]?.stringValue ?? currentMessageId ?? "unknown"
            let index = event["index"]?.intValue ?? 0
            streamed[messageId, default: [:]][index, default: ""] += text
            return [.message(ChatMessage(type: .assistant, content: text, messageId: messageId))]
        default:
            break
        }
        return []
    }

    private mutating func assistant(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        guard let message = object["message"]?.objectValue, let blocks = message["content"]?.arrayValue else { return [] }
        let messageId = message["id"]?.stringValue
        let synthetic = message["model"]?.stringValue == "<synthetic>"
        var events: [ClaudeStreamEvent] = []
        for block in blocks {
            guard let kind = block["type"]?.stringValue else { continue }
            switch kind {
            case "text":
                guard let text = block["text"]?.stringValue, !text.isEmpty else { continue }
                let unseen = unstreamedText(text, messageId: messageId)
                guard !unseen.isEmpty else { continue }
                let chat = ChatMessage(type: .assistant, content: unseen, messageId: messageId)
                if synthetic { heldSynthetic.append(chat) } else { events.append(.message(chat)) }
            case "tool_use":
                let input = block["input"] ?? .object([:])
                events.append(.message(ChatMessage(
                    type: .toolUse, content: input.prettyText, messageId: messageId,
                    toolName: block["name"]?.stringValue ?? "unknown", toolId: block["id"]?.stringValue
                )))
            default:
                continue  // thinking, redacted_thinking, server tool blocks
            }
        }
        return events
    }

    /// The part of an `assistant` text block that the deltas did not already deliver.
    private mutating func unstreamedText(_ text: String, messageId: String?) -> String {
        guard let messageId else { return text }
        let ordinal = assistantTextBlocks[messageId, default: 0]
        assistantTextBlocks[messageId] = ordinal + 1
        guard let blocks = streamed[messageId] else { return text }
        let indices = blocks.keys.sorted()
        guard ordinal < indices.count, let already = blocks[indices[ordinal]] else { return text }
        if text == already { return "" }
        if text.hasPrefix(already) { return String(text.dropFirst(already.count)) }
        return text
    }

    private mutating func user(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        guard let blocks = object["message"]?["content"]?.arrayValue else { return [] }
        var events: [ClaudeStreamEvent] = []
        for block in blocks where block["type"]?.stringValue == "tool_result" {
            events.append(.message(ChatMessage(
                type: .toolResult, content: Self.text(of: block["content"]),
                toolId: block["tool_use_id"]?.stringValue,
                extra: ["isError": .bool(block["is_error"]?.boolValue ?? false)]
            )))
        }
        return events
    }

    /// A tool result's content as text: a string as is; a list of blocks as their texts,
    /// one per line (`[image]` for an image).
    static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let s)?: return s
        case .array(let blocks)?:
            return blocks.map { block -> String in
                if let text = block["text"]?.stringValue { return text }
                if let kind = block["type"]?.stringValue { return "[\(kind)]" }
                return block.jsonText
            }.joined(separator: "\n")
        case nil, .null?: return ""
        case let other?: return other.jsonText
        }
    }

    private mutating func result(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        var result = ClaudeTurnResult(isError: object["is_error"]?.boolValue ?? false)
        result.subtype = object["subtype"]?.stringValue
        result.text = object["result"]?.stringValue
        result.errors = object["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let total = object["total_cost_usd"], let value = total.doubleValue {
            result.totalCostUsd = total
            result.costUsd = max(0, value - (lastTotalCost ?? 0))
            lastTotalCost = value
        }
        if let usage = object["usage"]?.objectValue {
            for (key, name) in [("input_tokens", "inputTokens"), ("output_tokens", "outputTokens"),
                                ("cache_creation_input_tokens", "cacheCreationInputTokens"),
                                ("cache_read_input_tokens", "cacheReadInputTokens")] {
                if let count = usage[key], case .number = count { result.usage[name] = count }
            }
        }
        result.durationMilliseconds = object["duration_ms"]?.intValue
        result.skippedLines = skippedLineCount - skippedAtLastResult
        skippedAtLastResult = skippedLineCount
        var events: [ClaudeStreamEvent] = []
        for held in heldSynthetic where !(result.isError && held.content == result.errorText) {
            events.append(.message(held))
        }
        heldSynthetic = []
        // A new turn streams new messages; what this one streamed is no longer needed.
        streamed = [:]
        assistantTextBlocks = [:]
        currentMessageId = nil
        events.append(.result(result))
        return events
    }

    private func controlResponse(_ object: [String: JSONValue]) -> [ClaudeStreamEvent] {
        guard let response = object["response"]?.objectValue, let id = response["request_id"]?.stringValue else { return [] }
        let error = response["subtype"]?.stringValue == "error" ? (response["error"]?.stringValue ?? "unknown error") : nil
        return [.controlResponse(requestId: id, error: error)]
    }

    /// A dollar amount as a JSON number, without binary-fraction noise.
    static func format(_ value: Double) -> String {
        let rounded = (value * 1e12).rounded() / 1e12
        let text = String(describing: rounded)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
