import Hummingbird
import NIOCore
import SwitchboardAdapterAPI
import SwitchboardTesting
import Synchronization

/// A scripted OpenAI Chat Completions API on loopback, for running real agents that speak
/// it — fast-agent's `generic` provider, among many — in tests.
///
/// Point the agent at ``baseURL`` (fast-agent: `GENERIC_BASE_URL`). Each
/// `POST /v1/chat/completions` whose conversation ends with the person's message takes the
/// reply of the first rule its prompt matches (``reply(_:then:whenPromptContains:)``), else
/// the next queued ``Reply`` (a short text when none is queued); a request that answers a
/// tool call takes the rule's follow-up, else the queue. The prompt is the **last line** of
/// the newest user message: some agents fold an interrupted message into the next one.
/// Replies stream as server-sent `chat.completion.chunk`s — text deltas, or a tool call as
/// `tool_calls` deltas naming one of the tools the request offered — then a usage chunk and
/// `[DONE]`; or they are an HTTP error. Every request is recorded.
///
/// ```swift
/// try await MockChatCompletionsAPI.run { api in
///     api.reply(.shell("echo hi"), then: .echoToolResult, whenPromptContains: "RUN")
///     … run the agent with GENERIC_BASE_URL = api.baseURL …
///     #expect(api.requests.items.last?.toolResults.last?.contains("hi") == true)
/// }
/// ```
public final class MockChatCompletionsAPI: Sendable {
    /// `http://127.0.0.1:<port>/v1`: the provider's base URL.
    public let baseURL: String
    /// The port it listens on (chosen by the system).
    public let port: Int
    /// Every `/v1/chat/completions` request, in arrival order.
    public let requests = Recorder<RecordedRequest>()
    /// Every streamed reply once it ended, in order.
    public let streams = Recorder<StreamRecord>()

    private let script = ReplyScript(default: Reply.text("OK"))

    private init(port: Int) {
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)/v1"
    }

    /// Queues replies; each request no rule answers takes the first one left.
    public func enqueue(_ replies: Reply...) { script.enqueue(replies) }

    /// Answers every turn whose prompt contains `text` with `reply`, ahead of the queue, and
    /// the request that follows a tool call of that turn with `followUp` (when given). The
    /// first matching rule wins.
    public func reply(_ reply: Reply, then followUp: Reply? = nil, whenPromptContains text: String) {
        script.addRule(reply, afterToolResult: followUp, whenPromptContains: text)
    }

    /// The reply used when the queue is empty (a text `OK` unless changed).
    public func setDefaultReply(_ reply: Reply) { script.setDefault(reply) }

    /// Starts the server on an ephemeral loopback port, runs `body`, then stops the server.
    public static func run<T: Sendable>(_ body: @Sendable (MockChatCompletionsAPI) async throws -> T) async throws -> T {
        let box = Mutex<MockChatCompletionsAPI?>(nil)
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            guard let api = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await api.respond(to: request)
        }
        return try await LoopbackServer.run(router, label: "switchboard.mock-chat-completions-api") { port in
            let api = MockChatCompletionsAPI(port: port)
            box.withLock { $0 = api }
            return try await body(api)
        }
    }

    private func respond(to incoming: Request) async throws -> Response {
        var incoming = incoming
        let buffer = try await incoming.collectBody(upTo: 256 << 20)
        let bytes = Array(buffer.readableBytesView)
        let body = (try? bytes.withUnsafeBufferPointer { try JSONValue(parsing: $0) }) ?? .null
        let recorded = RecordedRequest(path: incoming.uri.description, body: body, receivedAt: .now)
        let (reply, number) = script.next(prompt: recorded.prompt, answersToolCall: recorded.answersToolCall)
        requests.append(recorded)
        if case .error(let status, let message) = reply.kind {
            let json = JSONValue.object(["error": .object([
                "message": .string(message), "type": .string(status >= 500 ? "server_error" : "invalid_request_error"),
                "code": .null, "param": .null,
            ])]).jsonText
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        let id = "chatcmpl-mock-\(number)"
        let model = recorded.model ?? "mock-model"
        let chunks = ChatSSE.chunks(for: reply, request: recorded, number: number)
        let delay = reply.chunkDelay
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { [self] writer in
                var record = StreamRecord(id: id, chunksWritten: 0, aborted: true)
                defer { streams.append(record) }
                for delta in chunks {
                    if delay > .zero && delta.isText { try await Task.sleep(for: delay) }
                    try await writer.write(ChatSSE.event(id: id, model: model, delta: delta.json, finish: delta.finish))
                    record.chunksWritten += 1
                }
                try await writer.write(ChatSSE.usage(id: id, model: model))
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
                record.aborted = false
            }
        )
    }
}

/// The Chat Completions API's server-sent event encoding.
enum ChatSSE {
    /// One delta to stream: its JSON, whether it is text (slow replies pause before text), and
    /// the finish reason it carries.
    struct Delta {
        var json: JSONValue
        var isText: Bool
        var finish: String?
    }

    /// The deltas of `reply`, answering `request` (which names the tools a call may use).
    static func chunks(for reply: MockChatCompletionsAPI.Reply, request: MockChatCompletionsAPI.RecordedRequest, number: Int) -> [Delta] {
        var deltas = [Delta(json: .object(["role": .string("assistant"), "content": .string("")]), isText: false, finish: nil)]
        switch reply.kind {
        case .text(let chunks):
            deltas += chunks.map { Delta(json: .object(["content": .string($0)]), isText: true, finish: nil) }
            deltas.append(Delta(json: .object([:]), isText: false, finish: "stop"))
        case .echoToolResult(let prefix):
            let result = request.toolResults.last ?? ""
            deltas.append(Delta(json: .object(["content": .string(prefix + result)]), isText: true, finish: nil))
            deltas.append(Delta(json: .object([:]), isText: false, finish: "stop"))
        case .toolCall(let tool, let arguments, let callId):
            let name = request.toolName(matching: tool) ?? tool.fallback
            let id = "\(callId)_\(number)"
            deltas.append(Delta(json: .object(["tool_calls": .array([.object([
                "index": .int(0), "id": .string(id), "type": .string("function"),
                "function": .object(["name": .string(name), "arguments": .string("")]),
            ])])]), isText: false, finish: nil))
            deltas.append(Delta(json: .object(["tool_calls": .array([.object([
                "index": .int(0), "function": .object(["arguments": .string(arguments.jsonText)]),
            ])])]), isText: false, finish: nil))
            deltas.append(Delta(json: .object([:]), isText: false, finish: "tool_calls"))
        case .error:
            break
        }
        return deltas
    }

    static func event(id: String, model: String, delta: JSONValue, finish: String?) -> ByteBuffer {
        let chunk = JSONValue.object([
            "id": .string(id), "object": .string("chat.completion.chunk"), "created": .int(1_796_000_000), "model": .string(model),
            "choices": .array([.object(["index": .int(0), "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null])]),
        ])
        return ByteBuffer(string: "data: \(chunk.jsonText)\n\n")
    }

    /// The usage chunk at the end of every stream: 12 prompt and 5 completion tokens.
    static func usage(id: String, model: String) -> ByteBuffer {
        let chunk = JSONValue.object([
            "id": .string(id), "object": .string("chat.completion.chunk"), "created": .int(1_796_000_000), "model": .string(model),
            "choices": .array([]),
            "usage": .object(["prompt_tokens": .int(12), "completion_tokens": .int(5), "total_tokens": .int(17)]),
        ])
        return ByteBuffer(string: "data: \(chunk.jsonText)\n\n")
    }
}
