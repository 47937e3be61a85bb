import Hummingbird
import Logging
import NIOCore
import SwitchboardAdapterAPI
import SwitchboardTesting
import Synchronization

/// A scripted Anthropic Messages API on loopback, for running the real `claude` CLI in tests.
///
/// Point the CLI at ``baseURL`` (`ANTHROPIC_BASE_URL`, see ``ClaudeCLI/environment(home:api:)``).
/// Each `POST /v1/messages` takes the reply of the first rule its prompt matches
/// (``reply(_:whenPromptContains:)``), else the next queued ``Reply`` (a short text when
/// none is queued), and answers it as Anthropic's server-sent events — `message_start`,
/// `content_block_start`, `content_block_delta` (`text_delta` or `input_json_delta`),
/// `content_block_stop`, `message_delta`, `message_stop` — or as an error response. Every
/// request is recorded, so a test can check the model and the full history the CLI sent.
///
/// ```swift
/// try await MockAnthropicAPI.run { api in
///     api.enqueue(.text("Hel", "lo"))
///     … run claude with ANTHROPIC_BASE_URL = api.baseURL …
///     #expect(try await api.requests.wait { !$0.isEmpty }.first?.model == "claude-test-1")
/// }
/// ```
public final class MockAnthropicAPI: Sendable {
    /// `http://127.0.0.1:<port>`.
    public let baseURL: String
    /// The port it listens on (chosen by the system).
    public let port: Int
    /// Every `/v1/messages` request, in arrival order.
    public let requests = Recorder<RecordedRequest>()
    /// Every streamed reply once it ended, in order.
    public let streams = Recorder<StreamRecord>()
    /// For each streamed reply, the moment its first delta had been written: the message id
    /// and the instant. Recorded as it happens.
    public let firstDeltas = Recorder<(messageId: String, at: ContinuousClock.Instant)>()

    private struct State {
        var queue: [Reply] = []
        var rules: [(promptContains: String, reply: Reply, afterToolResult: Reply?)] = []
        var defaultReply = Reply.text("OK")
        var nextMessage = 1
    }

    private let state = Mutex(State())

    private init(port: Int) {
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)"
    }

    /// Queues replies; each request takes the first one left.
    public func enqueue(_ replies: Reply...) {
        state.withLock { $0.queue.append(contentsOf: replies) }
    }

    /// Answers every request whose prompt — the latest user text, ``RecordedRequest/userTexts``
    /// — contains `text` with `reply`, ahead of the queue: for callers that cannot know the
    /// order of their requests (the conformance suite). The first matching rule wins.
    public func reply(_ reply: Reply, whenPromptContains text: String) {
        state.withLock { $0.rules.append((text, reply, nil)) }
    }

    /// Like ``reply(_:whenPromptContains:)``, but a request that answers a tool call (its
    /// newest message carries a `tool_result`) gets `afterToolResult`: a turn that calls a
    /// tool once and then ends, however often it is asked for.
    public func reply(_ reply: Reply, afterToolResult: Reply, whenPromptContains text: String) {
        state.withLock { $0.rules.append((text, reply, afterToolResult)) }
    }

    /// The reply used when the queue is empty (a text `OK` unless changed).
    public func setDefaultReply(_ reply: Reply) {
        state.withLock { $0.defaultReply = reply }
    }

    /// How many queued replies are left.
    public var queuedReplyCount: Int { state.withLock { $0.queue.count } }

    /// Starts the server on an ephemeral loopback port, runs `body`, then stops the server
    /// (cutting any stream still running) before returning.
    public static func run<T: Sendable>(_ body: @Sendable (MockAnthropicAPI) async throws -> T) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "switchboard.mock-anthropic-api")
        logger.logLevel = .critical
        let box = Mutex<MockAnthropicAPI?>(nil)
        let router = Router()
        router.post("/v1/messages") { request, _ -> Response in
            guard let api = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await api.respond(to: request)
        }
        router.post("/v1/messages/count_tokens") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"input_tokens":10}"#)))
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw MockServerError(message: "The mock Anthropic API did not start listening.")
            }
            let api = MockAnthropicAPI(port: port)
            box.withLock { $0 = api }
            let result: T
            do {
                result = try await body(api)
            } catch {
                group.cancelAll()
                while (try? await group.next()) != nil {}
                throw error
            }
            group.cancelAll()
            while (try? await group.next()) != nil {}
            return result
        }
    }

    private func respond(to incoming: Request) async throws -> Response {
        var incoming = incoming
        let buffer = try await incoming.collectBody(upTo: 256 << 20)
        let bytes = Array(buffer.readableBytesView)
        let body = (try? bytes.withUnsafeBufferPointer { try JSONValue(parsing: $0) }) ?? .null
        let recorded = RecordedRequest(path: incoming.uri.description, body: body, receivedAt: .now)
        let (reply, number) = state.withLock { s -> (Reply, Int) in
            defer { s.nextMessage += 1 }
            if let prompt = recorded.userTexts.last, let rule = s.rules.first(where: { prompt.contains($0.promptContains) }) {
                if let after = rule.afterToolResult, recorded.endsWithToolResult { return (after, s.nextMessage) }
                return (rule.reply, s.nextMessage)
            }
            return (s.queue.isEmpty ? s.defaultReply : s.queue.removeFirst(), s.nextMessage)
        }
        requests.append(recorded)
        let messageId = "msg_mock_\(number)"
        switch reply.kind {
        case .error(let status, let type, let message):
            let json = JSONValue.object([
                "type": .string("error"),
                "error": .object(["type": .string(type), "message": .string(message)]),
            ]).jsonText
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json))
            )
        case .stream(let blocks):
            let model = recorded.model ?? "claude-mock"
            let inputTokens = 10 + recorded.messages.count
            guard recorded.isStreaming else {
                let json = SSE.completeMessage(id: messageId, model: model, blocks: blocks, inputTokens: inputTokens)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            let delay = reply.chunkDelay
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { [self] writer in
                    var record = StreamRecord(messageId: messageId, firstDeltaAt: nil, deltasWritten: 0, aborted: true)
                    defer { streams.append(record) }
                    try await writer.write(SSE.event("message_start", SSE.messageStart(id: messageId, model: model, inputTokens: inputTokens)))
                    for (index, block) in blocks.enumerated() {
                        try await writer.write(SSE.event("content_block_start", SSE.blockStart(index: index, block: block)))
                        for delta in SSE.deltas(index: index, block: block) {
                            if delay > .zero { try await Task.sleep(for: delay) }
                            try await writer.write(SSE.event("content_block_delta", delta))
                            record.deltasWritten += 1
                            if record.firstDeltaAt == nil {
                                let now = ContinuousClock.now
                                record.firstDeltaAt = now
                                firstDeltas.append((messageId, now))
                            }
                        }
                        try await writer.write(SSE.event("content_block_stop", #"{"index":\#(index),"type":"content_block_stop"}"#))
                    }
                    let stop = blocks.contains { if case .toolUse = $0 { true } else { false } } ? "tool_use" : "end_turn"
                    try await writer.write(SSE.event("message_delta", #"{"delta":{"stop_reason":"\#(stop)","stop_sequence":null},"type":"message_delta","usage":{"output_tokens":\#(max(1, record.deltasWritten))}}"#))
                    try await writer.write(SSE.event("message_stop", #"{"type":"message_stop"}"#))
                    try await writer.finish(nil)
                    record.aborted = false
                }
            )
        }
    }
}

/// Anthropic's server-sent event encoding.
enum SSE {
    static func event(_ name: String, _ json: String) -> ByteBuffer {
        ByteBuffer(string: "event: \(name)\ndata: \(json)\n\n")
    }

    static func messageStart(id: String, model: String, inputTokens: Int) -> String {
        JSONValue.object([
            "type": .string("message_start"),
            "message": .object([
                "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
                "content": .array([]), "stop_reason": .null, "stop_sequence": .null,
                "usage": .object(["input_tokens": .int(inputTokens), "output_tokens": .int(1)]),
            ]),
        ]).jsonText
    }

    static func blockStart(index: Int, block: MockAnthropicAPI.Reply.Block) -> String {
        let content: JSONValue = switch block {
        case .text: .object(["type": .string("text"), "text": .string("")])
        case .toolUse(let id, let name, _): .object(["type": .string("tool_use"), "id": .string(id), "name": .string(name), "input": .object([:])])
        }
        return JSONValue.object(["type": .string("content_block_start"), "index": .int(index), "content_block": content]).jsonText
    }

    static func deltas(index: Int, block: MockAnthropicAPI.Reply.Block) -> [String] {
        switch block {
        case .text(let chunks):
            return chunks.map { chunk in
                JSONValue.object([
                    "type": .string("content_block_delta"), "index": .int(index),
                    "delta": .object(["type": .string("text_delta"), "text": .string(chunk)]),
                ]).jsonText
            }
        case .toolUse(_, _, let input):
            // The input JSON in two pieces, as the real API splits it.
            let json = input.jsonText
            let middle = json.index(json.startIndex, offsetBy: json.count / 2)
            return [String(json[..<middle]), String(json[middle...])].map { part in
                JSONValue.object([
                    "type": .string("content_block_delta"), "index": .int(index),
                    "delta": .object(["type": .string("input_json_delta"), "partial_json": .string(part)]),
                ]).jsonText
            }
        }
    }

    /// A whole (non-streamed) message, for requests without `"stream": true`.
    static func completeMessage(id: String, model: String, blocks: [MockAnthropicAPI.Reply.Block], inputTokens: Int) -> String {
        var content: [JSONValue] = []
        var stop = "end_turn"
        for block in blocks {
            switch block {
            case .text(let chunks): content.append(.object(["type": .string("text"), "text": .string(chunks.joined())]))
            case .toolUse(let id, let name, let input):
                stop = "tool_use"
                content.append(.object(["type": .string("tool_use"), "id": .string(id), "name": .string(name), "input": input]))
            }
        }
        return JSONValue.object([
            "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
            "content": .array(content), "stop_reason": .string(stop), "stop_sequence": .null,
            "usage": .object(["input_tokens": .int(inputTokens), "output_tokens": .int(5)]),
        ]).jsonText
    }
}

/// The mock server could not start.
public struct MockServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
