import SwitchboardAdapterAPI

extension MockChatCompletionsAPI {
    /// Which of the request's tools a tool call uses: the first whose name contains one of
    /// `names` (in order), else `fallback`.
    public struct ToolChoice: Sendable, Hashable {
        public var names: [String]
        public var fallback: String

        public init(names: [String], fallback: String) {
            self.names = names
            self.fallback = fallback
        }

        /// A shell tool: fast-agent's `execute` (with `--shell`), or any `shell`/`bash` tool.
        public static let shell = ToolChoice(names: ["execute", "shell", "bash"], fallback: "execute")
        /// A file-writing tool (fast-agent's `write_text_file`, offered when the client can write).
        public static let writeFile = ToolChoice(names: ["write_text_file", "write"], fallback: "write_text_file")
        /// A file-reading tool.
        public static let readFile = ToolChoice(names: ["read_text_file", "read"], fallback: "read_text_file")
    }

    /// What the mock answers to one `POST /v1/chat/completions`.
    public struct Reply: Sendable {
        enum Kind: Sendable {
            case text([String])
            /// A text that repeats the last tool result of the request, after `prefix`.
            case echoToolResult(prefix: String)
            case toolCall(tool: ToolChoice, arguments: JSONValue, callId: String)
            case error(status: Int, message: String)
        }

        let kind: Kind
        /// How long to wait before each text delta.
        public var chunkDelay: Duration

        /// A message streamed as the given text chunks (one delta each).
        public static func text(_ chunks: [String], chunkDelay: Duration = .zero) -> Reply {
            Reply(kind: .text(chunks), chunkDelay: chunkDelay)
        }

        /// A message streamed as the given text chunks.
        public static func text(_ chunks: String..., chunkDelay: Duration = .zero) -> Reply {
            text(chunks, chunkDelay: chunkDelay)
        }

        /// A text saying `Tool said: <the last tool result>` — for the request after a tool
        /// call, so that what the tool returned shows in the agent's reply.
        public static var echoToolResult: Reply { Reply(kind: .echoToolResult(prefix: "Tool said: "), chunkDelay: .zero) }

        /// A call of one of the request's tools with `arguments`.
        public static func toolCall(_ tool: ToolChoice, arguments: JSONValue, callId: String = "call_mock") -> Reply {
            Reply(kind: .toolCall(tool: tool, arguments: arguments, callId: callId), chunkDelay: .zero)
        }

        /// A call of the shell tool running `command`.
        public static func shell(_ command: String, callId: String = "call_mock_shell") -> Reply {
            toolCall(.shell, arguments: .object(["command": .string(command)]), callId: callId)
        }

        /// A call of the file-writing tool writing `content` to `path`.
        public static func writeFile(_ path: String, content: String, callId: String = "call_mock_write") -> Reply {
            toolCall(.writeFile, arguments: .object(["path": .string(path), "content": .string(content)]), callId: callId)
        }

        /// A call of the file-reading tool reading `path`.
        public static func readFile(_ path: String, callId: String = "call_mock_read") -> Reply {
            toolCall(.readFile, arguments: .object(["path": .string(path)]), callId: callId)
        }

        /// A long message that streams `count` chunks `tick <n> ` with `interval` between
        /// them: something to interrupt.
        public static func slow(count: Int = 600, interval: Duration = .milliseconds(50)) -> Reply {
            Reply(kind: .text((0..<count).map { "tick \($0) " }), chunkDelay: interval)
        }

        /// An HTTP error with an OpenAI error body.
        public static func error(status: Int = 400, message: String) -> Reply {
            Reply(kind: .error(status: status, message: message), chunkDelay: .zero)
        }
    }

    /// One request the mock received.
    public struct RecordedRequest: Sendable {
        /// The request target, e.g. `/v1/chat/completions`.
        public var path: String
        /// The JSON body (`null` when it was not JSON).
        public var body: JSONValue
        /// When it arrived.
        public var receivedAt: ContinuousClock.Instant

        /// The `model` it asked for.
        public var model: String? { body["model"]?.stringValue }
        /// Whether it asked for a streamed reply.
        public var isStreaming: Bool { body["stream"]?.boolValue ?? false }
        /// The conversation it sent (`messages`).
        public var messages: [JSONValue] { body["messages"]?.arrayValue ?? [] }
        /// The names of the tools it offered the model.
        public var toolNames: [String] {
            (body["tools"]?.arrayValue ?? []).compactMap { $0["function"]?["name"]?.stringValue ?? $0["name"]?.stringValue }
        }

        /// The person's messages in the conversation, in order.
        public var userTexts: [String] { texts(role: "user") }
        /// The assistant's messages in the conversation, in order (empty ones left out).
        public var assistantTexts: [String] { texts(role: "assistant").filter { !$0.isEmpty } }
        /// The tool results in the conversation (`role: tool`), in order.
        public var toolResults: [String] { texts(role: "tool") }

        /// Whether the conversation ends with a tool result: the model's next step in a turn.
        public var answersToolCall: Bool { messages.last?["role"]?.stringValue == "tool" }

        /// The last line of the newest user message: what a rule matches.
        public var prompt: String? {
            guard let last = userTexts.last else { return nil }
            let lines = last.split(separator: "\n", omittingEmptySubsequences: true)
            return lines.last.map(String.init) ?? last
        }

        /// The first offered tool whose name contains one of `choice.names`.
        func toolName(matching choice: ToolChoice) -> String? {
            let offered = toolNames
            for name in choice.names {
                if let tool = offered.first(where: { $0 == name }) ?? offered.first(where: { $0.lowercased().contains(name) }) { return tool }
            }
            return nil
        }

        private func texts(role: String) -> [String] {
            messages.filter { $0["role"]?.stringValue == role }.map { message in
                switch message["content"] {
                case .string(let text)?: text
                case .array(let parts)?: parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                default: ""
                }
            }
        }
    }

    /// One streamed reply as the mock sent it.
    public struct StreamRecord: Sendable {
        /// Its completion id (`chatcmpl-mock-<n>`).
        public var id: String
        /// How many chunks were written.
        public var chunksWritten: Int
        /// Whether it ended because the client went away (or the server stopped) first.
        public var aborted: Bool
    }
}
