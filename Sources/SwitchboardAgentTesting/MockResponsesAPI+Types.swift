import SwitchboardAdapterAPI

extension MockResponsesAPI {
    /// What the mock answers to one `POST /v1/responses`.
    public struct Reply: Sendable {
        enum Kind: Sendable {
            case text([String])
            /// A `function_call` to Codex's shell tool (`exec_command` in 0.147.0).
            case shell(command: String, callId: String)
            /// A `custom_tool_call` to `apply_patch` with a patch in Codex's patch format.
            case patch(input: String, callId: String)
            case error(status: Int, message: String)
        }

        let kind: Kind
        /// How long to wait before each text delta.
        public var chunkDelay: Duration

        /// A message streamed as the given text chunks (one `response.output_text.delta` each).
        public static func text(_ chunks: [String], chunkDelay: Duration = .zero) -> Reply {
            Reply(kind: .text(chunks), chunkDelay: chunkDelay)
        }

        /// A message streamed as the given text chunks.
        public static func text(_ chunks: String..., chunkDelay: Duration = .zero) -> Reply {
            text(chunks, chunkDelay: chunkDelay)
        }

        /// A call of Codex's shell tool, `exec_command`, running `command`: Codex runs it and
        /// asks again with the output (a `function_call_output`).
        public static func shell(_ command: String, callId: String = "call_mock_shell") -> Reply {
            Reply(kind: .shell(command: command, callId: callId), chunkDelay: .zero)
        }

        /// An `apply_patch` call with `patch` (Codex's `*** Begin Patch` format). Codex only
        /// offers the tool for a model it knows (such as `gpt-5.5`).
        public static func patch(_ patch: String, callId: String = "call_mock_patch") -> Reply {
            Reply(kind: .patch(input: patch, callId: callId), chunkDelay: .zero)
        }

        /// An `apply_patch` call that adds the file `path` (relative to the thread's directory)
        /// with `lines`.
        public static func addFile(_ path: String, lines: [String], callId: String = "call_mock_patch") -> Reply {
            let body = lines.map { "+\($0)\n" }.joined()
            return patch("*** Begin Patch\n*** Add File: \(path)\n\(body)*** End Patch\n", callId: callId)
        }

        /// A long message that streams `count` chunks `tick <n> ` with `interval` between
        /// them: something to interrupt.
        public static func slow(count: Int = 600, interval: Duration = .milliseconds(50)) -> Reply {
            Reply(kind: .text((0..<count).map { "tick \($0) " }), chunkDelay: interval)
        }

        /// An HTTP error with an OpenAI error body. Give the mock provider
        /// `request_max_retries = 0` and `stream_max_retries = 0` (``CodexCLI`` does), or
        /// Codex retries a 5xx for about 25 s.
        public static func error(status: Int = 400, message: String) -> Reply {
            Reply(kind: .error(status: status, message: message), chunkDelay: .zero)
        }

        /// The text the reply streams, all chunks joined.
        public var text: String {
            if case .text(let chunks) = kind { return chunks.joined() }
            return ""
        }
    }

    /// One request the mock received.
    public struct RecordedRequest: Sendable {
        /// The request target, e.g. `/v1/responses`.
        public var path: String
        /// The JSON body (`null` when it was not JSON).
        public var body: JSONValue
        /// When it arrived.
        public var receivedAt: ContinuousClock.Instant

        /// The `model` it asked for.
        public var model: String? { body["model"]?.stringValue }
        /// Whether it asked for a streamed reply.
        public var isStreaming: Bool { body["stream"]?.boolValue ?? false }
        /// The conversation it sent (`input`).
        public var input: [JSONValue] { body["input"]?.arrayValue ?? [] }
        /// The names of the tools it offered the model.
        public var toolNames: [String] {
            (body["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue ?? $0["type"]?.stringValue }
        }

        /// The person's messages in the history, in order — without the texts Codex adds
        /// itself (`<environment_context>`, `<turn_aborted>`, instructions), which start with `<`
        /// or `#`.
        public var userTexts: [String] {
            texts(role: "user").filter { !$0.hasPrefix("<") && !$0.hasPrefix("#") }
        }

        /// The assistant's messages in the history, in order.
        public var assistantTexts: [String] { texts(role: "assistant") }

        /// Whether the history holds Codex's marker for an interrupted turn.
        public var hasTurnAbortedMarker: Bool { texts(role: "user").contains { $0.hasPrefix("<turn_aborted>") } }

        /// The tool outputs in the history (`function_call_output`, `custom_tool_call_output`):
        /// the call id and the output as text.
        public var toolOutputs: [(callId: String, output: String)] {
            input.compactMap { item -> (String, String)? in
                guard let type = item["type"]?.stringValue, type == "function_call_output" || type == "custom_tool_call_output" else { return nil }
                let output: String = switch item["output"] {
                case .string(let text)?: text
                case .array(let parts)?: parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                case let other?: other.jsonText
                case nil: ""
                }
                return (item["call_id"]?.stringValue ?? "", output)
            }
        }

        /// Whether the last item of the history is a person's message (not a tool output):
        /// a new turn rather than the model's next step.
        var endsWithUserMessage: Bool {
            guard let last = input.last else { return false }
            return last["type"]?.stringValue == "message" && last["role"]?.stringValue == "user"
        }

        private func texts(role: String) -> [String] {
            var texts: [String] = []
            for item in input where item["type"]?.stringValue == "message" && item["role"]?.stringValue == role {
                switch item["content"] {
                case .string(let s)?: texts.append(s)
                case .array(let parts)?:
                    for part in parts {
                        if let text = part["text"]?.stringValue { texts.append(text) }
                    }
                default: break
                }
            }
            return texts
        }
    }

    /// One streamed reply as the mock sent it.
    public struct StreamRecord: Sendable {
        /// The response id it carried (`resp_mock_<n>`).
        public var responseId: String
        /// When its first text delta had been written to the connection.
        public var firstDeltaAt: ContinuousClock.Instant?
        /// How many text deltas were written.
        public var deltasWritten: Int
        /// Whether it ended because the client went away (or the server stopped) first.
        public var aborted: Bool
    }
}
