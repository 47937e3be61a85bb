import SwitchboardAdapterAPI

extension MockAnthropicAPI {
    /// What the mock answers to one `POST /v1/messages`.
    public struct Reply: Sendable {
        /// One content block of a streamed reply.
        public enum Block: Sendable {
            /// Text, streamed as one `text_delta` per chunk.
            case text([String])
            /// A tool call; its input is streamed as `input_json_delta`.
            case toolUse(id: String, name: String, input: JSONValue)
        }

        enum Kind: Sendable {
            case stream([Block])
            case error(status: Int, type: String, message: String)
        }

        let kind: Kind
        /// How long to wait before each delta.
        public var chunkDelay: Duration

        /// A reply streamed as the given text chunks.
        public static func text(_ chunks: [String], chunkDelay: Duration = .zero) -> Reply {
            Reply(kind: .stream([.text(chunks)]), chunkDelay: chunkDelay)
        }

        /// A reply streamed as the given text chunks.
        public static func text(_ chunks: String..., chunkDelay: Duration = .zero) -> Reply {
            text(chunks, chunkDelay: chunkDelay)
        }

        /// A `tool_use` block for `name` with `input` (`stop_reason: tool_use`): the CLI runs
        /// the tool and calls the API again with the `tool_result`.
        public static func toolUse(name: String, input: JSONValue, id: String = "toolu_mock_1", text: [String] = []) -> Reply {
            var blocks: [Block] = []
            if !text.isEmpty { blocks.append(.text(text)) }
            blocks.append(.toolUse(id: id, name: name, input: input))
            return Reply(kind: .stream(blocks), chunkDelay: .zero)
        }

        /// A `Bash` tool call running `command`.
        public static func bash(_ command: String, id: String = "toolu_mock_bash") -> Reply {
            toolUse(name: "Bash", input: .object(["command": .string(command), "description": .string("Run a command")]), id: id)
        }

        /// A long reply that streams `count` chunks `tick <n> ` with `interval` between them:
        /// something to interrupt.
        public static func slow(count: Int = 600, interval: Duration = .milliseconds(50)) -> Reply {
            Reply(kind: .stream([.text((0..<count).map { "tick \($0) " })]), chunkDelay: interval)
        }

        /// An HTTP error with an Anthropic error body. The CLI (2.1.327) retries some errors
        /// before it gives up — 400 five times, 429 and 5xx with backoff — but not 403, which
        /// makes `error(status: 403, type: "permission_error", …)` a one-request failure.
        public static func error(status: Int = 400, type: String = "invalid_request_error", message: String) -> Reply {
            Reply(kind: .error(status: status, type: type, message: message), chunkDelay: .zero)
        }

        /// The text the reply streams, all chunks joined.
        public var text: String {
            guard case .stream(let blocks) = kind else { return "" }
            return blocks.map { if case .text(let chunks) = $0 { chunks.joined() } else { "" } }.joined()
        }
    }

    /// One request the mock received.
    public struct RecordedRequest: Sendable {
        /// The request target, e.g. `/v1/messages?beta=true`.
        public var path: String
        /// The JSON body (`null` when it was not JSON).
        public var body: JSONValue
        /// When it arrived.
        public var receivedAt: ContinuousClock.Instant

        /// The `model` it asked for.
        public var model: String? { body["model"]?.stringValue }
        /// Whether it asked for a streamed reply.
        public var isStreaming: Bool { body["stream"]?.boolValue ?? false }
        /// The conversation it sent.
        public var messages: [JSONValue] { body["messages"]?.arrayValue ?? [] }

        /// The texts of the user's messages in the history, in order, without the CLI's
        /// own `<system-reminder>` blocks.
        public var userTexts: [String] {
            texts(role: "user").filter { !$0.hasPrefix("<system-reminder>") }
        }

        /// Whether the newest message carries a `tool_result`: the CLI is answering a tool call.
        public var endsWithToolResult: Bool {
            guard let last = messages.last, last["role"]?.stringValue == "user" else { return false }
            return (last["content"]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "tool_result" }
        }

        /// The texts of the assistant's messages in the history, in order.
        public var assistantTexts: [String] { texts(role: "assistant") }

        /// The `tool_result` blocks in the history: the tool call's id and the content as text.
        public var toolResults: [(toolUseId: String, content: String)] {
            var results: [(String, String)] = []
            for message in messages where message["role"]?.stringValue == "user" {
                for block in message["content"]?.arrayValue ?? [] where block["type"]?.stringValue == "tool_result" {
                    let content: String
                    switch block["content"] {
                    case .string(let s)?: content = s
                    case .array(let parts)?: content = parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                    default: content = ""
                    }
                    results.append((block["tool_use_id"]?.stringValue ?? "", content))
                }
            }
            return results
        }

        private func texts(role: String) -> [String] {
            var texts: [String] = []
            for message in messages where message["role"]?.stringValue == role {
                switch message["content"] {
                case .string(let s)?: texts.append(s)
                case .array(let blocks)?:
                    for block in blocks where block["type"]?.stringValue == "text" {
                        if let text = block["text"]?.stringValue { texts.append(text) }
                    }
                default: break
                }
            }
            return texts
        }
    }

    /// One streamed reply as the mock sent it.
    public struct StreamRecord: Sendable {
        /// The API message id it carried (`msg_mock_<n>`).
        public var messageId: String
        /// When its first delta had been written to the connection.
        public var firstDeltaAt: ContinuousClock.Instant?
        /// How many deltas were written.
        public var deltasWritten: Int
        /// Whether it ended because the client went away (or the server stopped) first.
        public var aborted: Bool
    }
}
