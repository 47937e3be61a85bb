import Hummingbird
import NIOCore
import SwitchboardAdapterAPI
import SwitchboardTesting
import Synchronization

/// A scripted OpenAI Responses API on loopback, for running the real `codex` CLI in tests.
///
/// Point a Codex model provider at ``baseURL`` (``CodexCLI/makeHome(api:)`` writes the
/// `config.toml`). Each `POST /v1/responses` that starts a turn (its history ends with the
/// person's message) takes the reply of the first rule its prompt matches
/// (``reply(_:whenPromptContains:)``); every other request — and a turn no rule matches —
/// takes the next queued ``Reply`` (a short text when none is queued). Replies stream as
/// the Responses API's server-sent events — `response.created`,
/// `response.output_item.added`, `response.output_text.delta`, `response.output_item.done`,
/// `response.completed` — or are an HTTP error. Every request is recorded, so a test can
/// check the model, the tools and the full history Codex sent.
///
/// ```swift
/// try await MockResponsesAPI.run { api in
///     api.enqueue(.shell("echo hi"), .text("It printed hi."))
///     … run codex with a home from CodexCLI.makeHome(api:) …
///     #expect(api.requests.items.last?.toolOutputs.first?.output.contains("hi") == true)
/// }
/// ```
public final class MockResponsesAPI: Sendable {
    /// `http://127.0.0.1:<port>/v1`: the provider's `base_url`.
    public let baseURL: String
    /// The port it listens on (chosen by the system).
    public let port: Int
    /// Every `/v1/responses` request, in arrival order.
    public let requests = Recorder<RecordedRequest>()
    /// Every streamed reply once it ended, in order.
    public let streams = Recorder<StreamRecord>()
    /// For each streamed text reply, the moment its first delta had been written.
    public let firstDeltas = Recorder<(responseId: String, at: ContinuousClock.Instant)>()

    private let script = ReplyScript(default: Reply.text("OK"))

    private init(port: Int) {
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)/v1"
    }

    /// Queues replies; each request takes the first one left.
    public func enqueue(_ replies: Reply...) { script.enqueue(replies) }

    /// Answers every turn whose prompt (the person's last message) contains `text` with
    /// `reply`, ahead of the queue. The first matching rule wins.
    public func reply(_ reply: Reply, whenPromptContains text: String) { script.addRule(reply, whenPromptContains: text) }

    /// The reply used when the queue is empty (a text `OK` unless changed).
    public func setDefaultReply(_ reply: Reply) { script.setDefault(reply) }

    /// How many queued replies are left.
    public var queuedReplyCount: Int { script.queuedCount }

    /// Starts the server on an ephemeral loopback port, runs `body`, then stops the server.
    public static func run<T: Sendable>(_ body: @Sendable (MockResponsesAPI) async throws -> T) async throws -> T {
        let box = Mutex<MockResponsesAPI?>(nil)
        let router = Router()
        router.post("/v1/responses") { request, _ -> Response in
            guard let api = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await api.respond(to: request)
        }
        return try await LoopbackServer.run(router, label: "switchboard.mock-responses-api") { port in
            let api = MockResponsesAPI(port: port)
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
        // Only a turn's first request (its history ends with the person's message) may match a rule.
        let (reply, number) = script.next(prompt: recorded.endsWithUserMessage ? recorded.userTexts.last : nil)
        requests.append(recorded)
        let responseId = "resp_mock_\(number)"
        if case .error(let status, let message) = reply.kind {
            let json = JSONValue.object(["error": .object([
                "message": .string(message), "type": .string(status >= 500 ? "server_error" : "invalid_request_error"),
                "code": .null, "param": .null,
            ])]).jsonText
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        let delay = reply.chunkDelay
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { [self] writer in
                var record = StreamRecord(responseId: responseId, firstDeltaAt: nil, deltasWritten: 0, aborted: true)
                defer { streams.append(record) }
                try await writer.write(ResponsesSSE.event("response.created", ["response": .object(["id": .string(responseId)])]))
                switch reply.kind {
                case .text(let chunks):
                    let messageId = "msg_mock_\(number)"
                    try await writer.write(ResponsesSSE.event("response.output_item.added", ["item": ResponsesSSE.message(messageId, text: nil)]))
                    for chunk in chunks {
                        if delay > .zero { try await Task.sleep(for: delay) }
                        try await writer.write(ResponsesSSE.event("response.output_text.delta", [
                            "item_id": .string(messageId), "output_index": .int(0), "content_index": .int(0), "delta": .string(chunk),
                        ]))
                        record.deltasWritten += 1
                        if record.firstDeltaAt == nil {
                            let now = ContinuousClock.now
                            record.firstDeltaAt = now
                            firstDeltas.append((responseId, now))
                        }
                    }
                    try await writer.write(ResponsesSSE.event("response.output_item.done", ["item": ResponsesSSE.message(messageId, text: chunks.joined())]))
                case .shell(let command, let callId):
                    let arguments = JSONValue.object(["cmd": .string(command)]).jsonText
                    try await writer.write(ResponsesSSE.toolCall([
                        "type": .string("function_call"), "id": .string("fc_mock_\(number)"), "call_id": .string(callId),
                        "name": .string("exec_command"), "arguments": .string(arguments),
                    ]))
                case .patch(let input, let callId):
                    try await writer.write(ResponsesSSE.toolCall([
                        "type": .string("custom_tool_call"), "id": .string("ctc_mock_\(number)"), "call_id": .string(callId),
                        "name": .string("apply_patch"), "input": .string(input),
                    ]))
                case .error:
                    break
                }
                try await writer.write(ResponsesSSE.event("response.completed", ["response": ResponsesSSE.completed(responseId)]))
                try await writer.finish(nil)
                record.aborted = false
            }
        )
    }
}

/// The Responses API's server-sent event encoding.
enum ResponsesSSE {
    static func event(_ type: String, _ fields: [String: JSONValue]) -> ByteBuffer {
        var object = fields
        object["type"] = .string(type)
        return ByteBuffer(string: "event: \(type)\ndata: \(JSONValue.object(object).jsonText)\n\n")
    }

    /// An assistant message item: in progress and empty (`text == nil`), or complete.
    static func message(_ id: String, text: String?) -> JSONValue {
        let content: [JSONValue] = text.map { [.object(["type": .string("output_text"), "text": .string($0), "annotations": .array([])])] } ?? []
        return .object([
            "type": .string("message"), "role": .string("assistant"), "id": .string(id),
            "status": .string(text == nil ? "in_progress" : "completed"), "content": .array(content),
        ])
    }

    /// `response.output_item.added` and `.done` for a tool call item.
    static func toolCall(_ item: [String: JSONValue]) -> ByteBuffer {
        var added = item
        if added["arguments"] != nil { added["arguments"] = .string("") }
        if added["input"] != nil { added["input"] = .string("") }
        var buffer = event("response.output_item.added", ["item": .object(added)])
        var done = event("response.output_item.done", ["item": .object(item)])
        buffer.writeBuffer(&done)
        return buffer
    }

    /// The `response` of `response.completed`, with fixed usage: 10 input and 5 output tokens.
    static func completed(_ id: String) -> JSONValue {
        .object([
            "id": .string(id),
            "usage": .object([
                "input_tokens": .int(10), "input_tokens_details": .object(["cached_tokens": .int(0)]),
                "output_tokens": .int(5), "output_tokens_details": .object(["reasoning_tokens": .int(0)]),
                "total_tokens": .int(15),
            ]),
        ])
    }
}
