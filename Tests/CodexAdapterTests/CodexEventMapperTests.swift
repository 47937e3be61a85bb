import Foundation
import Testing
import SwitchboardAdapterAPI
@testable import CodexAdapter

/// The notification mapper on the shapes codex 0.147.0 writes (taken from recorded exchanges).
@Suite("Codex event mapper")
struct CodexEventMapperTests {
    static func params(_ json: String) throws -> JSONValue { try JSONValue(parsing: json) }

    static func messages(_ events: [CodexEvent]) -> [ChatMessage] {
        events.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    @Test("Deltas become assistant messages under the item id; the completed message adds nothing after deltas")
    func deltas() throws {
        var mapper = CodexEventMapper(model: "gpt-5.5")
        _ = mapper.map(method: "turn/started", params: try Self.params(#"{"threadId":"t","turn":{"id":"turn-1","status":"inProgress"}}"#))
        _ = mapper.map(method: "item/started", params: try Self.params(#"{"item":{"type":"agentMessage","id":"msg_1","text":""}}"#))
        var events = mapper.map(method: "item/agentMessage/delta", params: try Self.params(#"{"itemId":"msg_1","delta":"Hello "}"#))
        events += mapper.map(method: "item/agentMessage/delta", params: try Self.params(#"{"itemId":"msg_1","delta":"there"}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(#"{"item":{"type":"agentMessage","id":"msg_1","text":"Hello there"}}"#))
        let messages = Self.messages(events)
        #expect(messages.map(\.content) == ["Hello ", "there"])
        #expect(messages.allSatisfy { $0.type == .assistant && $0.messageId == "msg_1" })
    }

    @Test("A message that streamed no delta arrives whole, with its phase; reasoning and user echoes are not assistant text")
    func wholeMessage() throws {
        var mapper = CodexEventMapper()
        var events = mapper.map(method: "item/started", params: try Self.params(#"{"item":{"type":"userMessage","id":"u1","content":[]}}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(#"{"item":{"type":"reasoning","id":"rs_1","summary":["Thinking"]}}"#))
        events += mapper.map(method: "item/reasoning/summaryTextDelta", params: try Self.params(#"{"itemId":"rs_1","delta":"Thinking"}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(#"{"item":{"type":"agentMessage","id":"msg_2","text":"Whole.","phase":"final_answer"}}"#))
        let messages = Self.messages(events)
        #expect(messages.count == 1)
        #expect(messages.first?.content == "Whole." && messages.first?.messageId == "msg_2")
        #expect(messages.first?.extra["phase"] == .string("final_answer"))
    }

    @Test("A command: tool_use with command and cwd; tool_result with the longer of deltas and aggregate, exit code, isError")
    func command() throws {
        var mapper = CodexEventMapper()
        var events = mapper.map(method: "item/started", params: try Self.params(
            #"{"item":{"type":"commandExecution","id":"call_1","command":"/bin/bash -lc 'echo hi'","cwd":"/p","status":"inProgress","aggregatedOutput":null,"exitCode":null}}"#))
        events += mapper.map(method: "item/commandExecution/outputDelta", params: try Self.params(#"{"itemId":"call_1","delta":"line1\nline2\n"}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(
            #"{"item":{"type":"commandExecution","id":"call_1","command":"x","cwd":"/p","status":"failed","aggregatedOutput":"line2\n","exitCode":3,"durationMs":12}}"#))
        let messages = Self.messages(events)
        #expect(messages.map(\.type) == [.toolUse, .toolResult])
        #expect(messages[0].toolName == "Bash" && messages[0].toolId == "call_1")
        #expect(try JSONValue(parsing: messages[0].content) == .object(["command": .string("/bin/bash -lc 'echo hi'"), "cwd": .string("/p")]))
        #expect(messages[1].content == "line1\nline2\n")
        #expect(messages[1].extra["isError"] == .bool(true) && messages[1].extra["exitCode"] == .int(3))
        #expect(messages[1].extra["durationMs"] == .int(12) && messages[1].extra["status"] == .string("failed"))
    }

    @Test("A file change: Edit with path, plain kind and diff; the result lists the status and paths")
    func fileChange() throws {
        var mapper = CodexEventMapper()
        let item = #"{"type":"fileChange","id":"call_p","changes":[{"path":"/p/a.txt","kind":{"type":"add"},"diff":"hi\n"}],"status":"inProgress"}"#
        var events = mapper.map(method: "item/started", params: try Self.params(#"{"item":\#(item)}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(#"{"item":\#(item.replacingOccurrences(of: "inProgress", with: "completed"))}"#))
        let messages = Self.messages(events)
        #expect(messages[0].toolName == "Edit")
        #expect(try JSONValue(parsing: messages[0].content)["changes"] == .array([.object([
            "path": .string("/p/a.txt"), "kind": .string("add"), "diff": .string("hi\n"),
        ])]))
        #expect(messages[1].content == "completed\nadd /p/a.txt" && messages[1].extra["isError"] == .bool(false))
    }

    @Test("MCP tool calls and web searches pair up too")
    func mcpAndWebSearch() throws {
        var mapper = CodexEventMapper()
        var events = mapper.map(method: "item/started", params: try Self.params(
            #"{"item":{"type":"mcpToolCall","id":"m1","server":"docs","tool":"search","arguments":{"q":"swift"},"status":"inProgress"}}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(
            #"{"item":{"type":"mcpToolCall","id":"m1","server":"docs","tool":"search","arguments":{"q":"swift"},"status":"completed","result":{"content":[{"type":"text","text":"found"}]}}}"#))
        events += mapper.map(method: "item/started", params: try Self.params(#"{"item":{"type":"webSearch","id":"w1","query":"swift testing"}}"#))
        events += mapper.map(method: "item/completed", params: try Self.params(#"{"item":{"type":"webSearch","id":"w1","query":"swift testing"}}"#))
        let messages = Self.messages(events)
        #expect(messages.map(\.toolName) == ["docs.search", nil, "WebSearch", nil])
        #expect(messages[1].content == "found" && messages[1].toolId == "m1")
        #expect(try JSONValue(parsing: messages[2].content) == .object(["query": .string("swift testing")]))
    }

    @Test("Usage is the turn's share of the thread's totals, replayed totals included in the baseline")
    func usage() throws {
        var mapper = CodexEventMapper(model: "gpt-5.5")
        // Replayed on resume, before the turn.
        _ = mapper.map(method: "thread/tokenUsage/updated", params: try Self.params(
            #"{"turnId":"old","tokenUsage":{"total":{"inputTokens":20,"outputTokens":10,"totalTokens":30},"modelContextWindow":258400}}"#))
        _ = mapper.map(method: "turn/started", params: try Self.params(#"{"turn":{"id":"t2"}}"#))
        _ = mapper.map(method: "thread/tokenUsage/updated", params: try Self.params(
            #"{"turnId":"t2","tokenUsage":{"total":{"inputTokens":30,"outputTokens":15,"totalTokens":45}}}"#))
        let events = mapper.map(method: "turn/completed", params: try Self.params(#"{"turn":{"id":"t2","status":"completed","durationMs":70}}"#))
        guard case .turnEnded(.completed(let done))? = events.last else { Issue.record("\(events)"); return }
        #expect(done.extra["usage"] == .object(["inputTokens": .int(10), "outputTokens": .int(5), "totalTokens": .int(15)]))
        #expect(done.extra["threadUsage"]?["inputTokens"] == .int(30))
        #expect(done.extra["model"] == .string("gpt-5.5") && done.extra["modelContextWindow"] == .int(258400))
        #expect(done.extra["durationMs"] == .int(70))
    }

    @Test("Retries are system notices; a failed turn is an error with the server's message; unauthorized says how to log in")
    func errors() throws {
        var mapper = CodexEventMapper()
        _ = mapper.map(method: "turn/started", params: try Self.params(#"{"turn":{"id":"t"}}"#))
        let retry = Self.messages(mapper.map(method: "error", params: try Self.params(
            #"{"error":{"message":"stream disconnected","additionalDetails":"1/5"},"willRetry":true}"#)))
        #expect(retry.map(\.type) == [.system])
        #expect(retry.first?.content == "Reconnecting: stream disconnected (1/5)")
        _ = mapper.map(method: "error", params: try Self.params(#"{"error":{"message":"bad request","codexErrorInfo":"other"},"willRetry":false}"#))
        let failed = mapper.map(method: "turn/completed", params: try Self.params(#"{"turn":{"id":"t","status":"failed","error":null}}"#))
        guard case .turnEnded(.failed(let error))? = failed.last else { Issue.record("\(failed)"); return }
        #expect(error.content == "bad request" && error.extra["codexErrorInfo"] == .string("other"))

        let unauthorized = CodexEventMapper.errorMessage("401 Unauthorized", info: .string("unauthorized"))
        #expect(unauthorized.content.hasPrefix("Codex is not logged in or its credentials were refused: 401 Unauthorized"))
    }

    @Test("An interrupted turn closes the tool items the server left open, as errors")
    func interruptedClosesItems() throws {
        var mapper = CodexEventMapper()
        _ = mapper.map(method: "turn/started", params: try Self.params(#"{"turn":{"id":"t"}}"#))
        _ = mapper.map(method: "item/started", params: try Self.params(#"{"item":{"type":"agentMessage","id":"msg_1","text":""}}"#))
        _ = mapper.map(method: "item/started", params: try Self.params(#"{"item":{"type":"commandExecution","id":"call_1","command":"sleep 60","cwd":"/p"}}"#))
        _ = mapper.map(method: "item/commandExecution/outputDelta", params: try Self.params(#"{"itemId":"call_1","delta":"partial"}"#))
        #expect(mapper.openItem("call_1")?["command"] == .string("sleep 60"))
        let events = mapper.map(method: "turn/completed", params: try Self.params(#"{"turn":{"id":"t","status":"interrupted"}}"#))
        let closing = Self.messages(events)
        #expect(closing.count == 1, "only the tool item needs a result")
        #expect(closing.first?.type == .toolResult && closing.first?.toolId == "call_1")
        #expect(closing.first?.extra["isError"] == .bool(true) && closing.first?.extra["output"] == .string("partial"))
        #expect(events.last == .turnEnded(.interrupted))
        #expect(mapper.openItem("call_1") == nil)
    }
}
