import Foundation
import Testing
import SwitchboardAdapterAPI
@testable import ClaudeAdapter

/// The line → message mapping, on lines shaped like those claude 2.1.327 writes.
@Suite("Claude output lines to chat messages")
struct ClaudeStreamMapperTests {
    static let sid = "05dcbd5f-d0a2-48b5-ac27-d392cd98f585"
    static let initLine = #"{"type":"system","subtype":"init","cwd":"/tmp/x","session_id":"\#(sid)","tools":["Bash"],"model":"claude-test-1","claude_code_version":"2.1.327"}"#
    static func delta(_ text: String, id: String = "msg_1", index: Int = 0) -> String {
        #"{"type":"stream_event","event":{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":"\#(text)"}},"session_id":"\#(sid)","parent_tool_use_id":null,"api_message_id":"\#(id)"}"#
    }
    static let messageStart = #"{"type":"stream_event","event":{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-test-1","content":[],"usage":{"input_tokens":10,"output_tokens":1}}},"session_id":"x"}"#
    static let blockStart = #"{"type":"stream_event","event":{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}},"session_id":"x","api_message_id":"msg_1"}"#
    static let assistantText = #"{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"Hello world"}]},"parent_tool_use_id":null,"session_id":"x"}"#
    static let toolUse = #"{"type":"assistant","message":{"id":"msg_2","model":"claude-test-1","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"echo hi","description":"say hi"}}]},"session_id":"x"}"#
    static let toolResult = #"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01","type":"tool_result","content":"hi","is_error":false}]},"session_id":"x"}"#
    static let success = #"{"type":"result","subtype":"success","is_error":false,"duration_ms":535,"result":"Hello world","session_id":"x","total_cost_usd":0.00014000000000000001,"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5,"service_tier":"standard"}}"#

    static func messages(_ events: [ClaudeStreamEvent]) -> [ChatMessage] {
        events.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    @Test("init reports the session id every time and announces it once per process")
    func initLines() {
        var mapper = ClaudeStreamMapper()
        let first = mapper.map(Self.initLine)
        #expect(first.first == .sessionId(Self.sid))
        let notice = Self.messages(first)
        #expect(notice.map(\.type) == [.system])
        #expect(notice.first?.content == "Session started: 05dcbd5f...")
        let second = mapper.map(Self.initLine)
        #expect(second == [.sessionId(Self.sid)])
        let changed = mapper.map(Self.initLine.replacingOccurrences(of: Self.sid, with: "ffffffff-0000"))
        #expect(Self.messages(changed).first?.content == "Session started: ffffffff...")
        #expect(mapper.sessionId == "ffffffff-0000")
    }

    @Test("text deltas stream with the API message id; the repeating assistant line adds nothing")
    func textDeltas() {
        var mapper = ClaudeStreamMapper()
        var out: [ChatMessage] = []
        for line in [Self.messageStart, Self.blockStart, Self.delta("Hel"), Self.delta("lo "), Self.delta("world"), Self.assistantText] {
            out += Self.messages(mapper.map(line))
        }
        #expect(out.map(\.content) == ["Hel", "lo ", "world"])
        #expect(out.allSatisfy { $0.type == .assistant && $0.messageId == "msg_1" })
        #expect(mapper.skippedLineCount == 0)
    }

    @Test("An assistant line with text that was not streamed is emitted; a longer one adds its rest")
    func unstreamedText() {
        var mapper = ClaudeStreamMapper()
        #expect(Self.messages(mapper.map(Self.assistantText)).map(\.content) == ["Hello world"])
        var partial = ClaudeStreamMapper()
        _ = partial.map(Self.delta("Hello"))
        #expect(Self.messages(partial.map(Self.assistantText)).map(\.content) == [" world"])
    }

    @Test("tool_use and tool_result blocks become tool messages")
    func tools() {
        var mapper = ClaudeStreamMapper()
        let use = Self.messages(mapper.map(Self.toolUse))
        #expect(use.count == 1)
        #expect(use[0].type == .toolUse && use[0].toolName == "Bash" && use[0].toolId == "toolu_01")
        #expect(use[0].content == "{\n  \"command\": \"echo hi\",\n  \"description\": \"say hi\"\n}")
        let result = Self.messages(mapper.map(Self.toolResult))
        #expect(result.count == 1)
        #expect(result[0].type == .toolResult && result[0].toolId == "toolu_01" && result[0].content == "hi")
        #expect(result[0].extra["isError"] == .bool(false))
        let failed = Self.messages(mapper.map(#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","is_error":true,"content":[{"type":"text","text":"Exit code 1"},{"type":"text","text":"boom"}]}]}}"#))
        #expect(failed.first?.content == "Exit code 1\nboom")
        #expect(failed.first?.extra["isError"] == .bool(true))
    }

    @Test("A successful result is done with the turn's cost and usage")
    func successResult() throws {
        var mapper = ClaudeStreamMapper()
        let events = mapper.map(Self.success)
        guard case .result(let result)? = events.last else { Issue.record("no result in \(events)"); return }
        #expect(!result.isError)
        let done = result.message
        #expect(done.type == .done && done.content == "Response complete")
        #expect(done.extra["costUsd"] == .number("0.00014"))
        #expect(done.extra["usage"] == .object(["inputTokens": .int(10), "outputTokens": .int(5),
                                                "cacheCreationInputTokens": .int(0), "cacheReadInputTokens": .int(0)]))
        #expect(done.extra["durationMs"] == .int(535))
        // The CLI's total grows per process; the second turn's cost is the difference.
        let second = mapper.map(Self.success.replacingOccurrences(of: "0.00014000000000000001", with: "0.00028000000000000003"))
        guard case .result(let next)? = second.last else { Issue.record("no result"); return }
        #expect(next.message.extra["costUsd"] == .number("0.00014"))
        #expect(next.message.extra["totalCostUsd"] == .number("0.00028000000000000003"))
    }

    @Test("An error result is an error with the CLI's own text, judged by is_error")
    func errorResults() {
        var mapper = ClaudeStreamMapper()
        let synthetic = #"{"type":"assistant","message":{"id":"x1","model":"<synthetic>","role":"assistant","content":[{"type":"text","text":"Not logged in · Please run /login"}]}}"#
        #expect(Self.messages(mapper.map(synthetic)).isEmpty)
        let loginEvents = mapper.map(#"{"type":"result","subtype":"success","is_error":true,"result":"Not logged in · Please run /login","session_id":"x"}"#)
        #expect(Self.messages(loginEvents).isEmpty, "the synthetic repeat of the error is dropped")
        guard case .result(let login)? = loginEvents.last else { Issue.record("no result"); return }
        #expect(login.message.type == .error)
        #expect(login.message.content == "Not logged in · Please run /login")

        let resume = mapper.map(#"{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":0,"session_id":"1111","errors":["No conversation found with session ID: 1111"]}"#)
        guard case .result(let unknown)? = resume.last else { Issue.record("no result"); return }
        #expect(unknown.message.content == "No conversation found with session ID: 1111")
    }

    @Test("Lines that are not JSON objects or of unknown type are skipped and counted")
    func skippedLines() {
        var mapper = ClaudeStreamMapper()
        #expect(mapper.map("not json at all").isEmpty)
        #expect(mapper.map("[1,2,3]").isEmpty)
        #expect(mapper.map(#"{"no_type":true}"#).isEmpty)
        #expect(mapper.map(#"{"type":"brand_new_kind","x":1}"#).isEmpty)
        #expect(mapper.map(#"{"type":"system","subtype":"status","status":"requesting"}"#).isEmpty)
        #expect(mapper.map(#"{"type":"keep_alive"}"#).isEmpty)
        #expect(mapper.map("").isEmpty)
        #expect(mapper.skippedLineCount == 4)
        // The turn's done message says how many lines it skipped.
        guard case .result(let result)? = mapper.map(Self.success).last else { Issue.record("no result"); return }
        #expect(result.message.extra["skippedLines"] == .int(4))
        guard case .result(let next)? = mapper.map(Self.success).last else { Issue.record("no result"); return }
        #expect(next.message.extra["skippedLines"] == nil)
    }

    @Test("The interrupt's control response is reported with its request id")
    func controlResponse() {
        var mapper = ClaudeStreamMapper()
        #expect(mapper.map(#"{"type":"control_response","response":{"subtype":"success","request_id":"int-1","response":{"still_queued":[]}}}"#)
                == [.controlResponse(requestId: "int-1", error: nil)])
        #expect(mapper.map(#"{"type":"control_response","response":{"subtype":"error","request_id":"m-1","error":"nope"}}"#)
                == [.controlResponse(requestId: "m-1", error: "nope")])
    }
}
