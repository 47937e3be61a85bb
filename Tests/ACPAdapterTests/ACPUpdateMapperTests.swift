import Testing
import SwitchboardAdapterAPI
@testable import ACPAdapter

@Suite("ACP update mapper")
struct ACPUpdateMapperTests {
    static func update(_ json: String) -> JSONValue {
        (try? JSONValue(parsing: json)) ?? .null
    }

    static func chunk(_ kind: String, _ text: String, messageId: String? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["sessionUpdate": .string(kind), "content": .object(["type": .string("text"), "text": .string(text)])]
        if let messageId { object["messageId"] = .string(messageId) }
        return .object(object)
    }

    @Test("Message chunks share one messageId until something else comes between; empty chunks are dropped")
    func messageIds() {
        var mapper = ACPUpdateMapper()
        _ = mapper.beginTurn()
        let a = mapper.map(Self.chunk("agent_message_chunk", "Hel")) + mapper.map(Self.chunk("agent_message_chunk", "lo"))
        #expect(a.map(\.content) == ["Hel", "lo"] && a.allSatisfy { $0.type == .assistant })
        #expect(Set(a.compactMap(\.messageId)).count == 1)
        #expect(mapper.map(Self.chunk("agent_message_chunk", "")).isEmpty)
        _ = mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t1","title":"ls","kind":"execute","status":"in_progress","rawInput":{"command":"ls"}}"#))
        let b = mapper.map(Self.chunk("agent_message_chunk", "After"))
        #expect(b.first?.messageId != a.first?.messageId)
        // The agent's own messageId wins.
        #expect(mapper.map(Self.chunk("agent_message_chunk", "x", messageId: "m-9")).first?.messageId == "m-9")
        #expect(mapper.textChunks == 4 && mapper.toolCalls == 1)
    }

    @Test("Thought chunks are one system message, never assistant text; the person's echo is dropped")
    func thoughts() throws {
        var mapper = ACPUpdateMapper()
        _ = mapper.beginTurn()
        #expect(mapper.map(Self.chunk("user_message_chunk", "hi")).isEmpty)
        #expect(mapper.map(Self.chunk("agent_thought_chunk", "Let me ")).isEmpty)
        #expect(mapper.map(Self.chunk("agent_thought_chunk", "think.")).isEmpty)
        let out = mapper.map(Self.chunk("agent_message_chunk", "Answer"))
        try #require(out.count == 2)
        #expect(out[0].type == .system && out[0].content == "Let me think." && out[0].extra["thought"] == .bool(true))
        #expect(out[1].type == .assistant)
        // A thought still open when the turn ends is delivered then.
        _ = mapper.map(Self.chunk("agent_thought_chunk", "Trailing"))
        #expect(mapper.endTurn().map(\.content) == ["Trailing"])
    }

    @Test("A tool call: tool_use once its input is known (kind as toolName), tool_result when it completes or fails")
    func toolCalls() {
        var mapper = ACPUpdateMapper()
        _ = mapper.beginTurn()
        // Pending without input: not shown yet.
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t1","title":"execute","kind":"execute","status":"pending","content":[]}"#)).isEmpty)
        // The permission request brings the input: shown now.
        let shown = mapper.announce(Self.update(#"{"toolCallId":"t1","kind":"execute","status":"pending","title":"execute","rawInput":{"command":"echo hi"}}"#))
        #expect(shown.count == 1 && shown[0].type == .toolUse && shown[0].toolName == "execute" && shown[0].toolId == "t1")
        #expect(shown[0].content.contains("echo hi") && shown[0].extra["title"] == .string("execute"))
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"tool_call_update","toolCallId":"t1","status":"in_progress"}"#)).isEmpty)
        let done = mapper.map(Self.update(#"{"sessionUpdate":"tool_call_update","toolCallId":"t1","status":"completed","content":[{"type":"content","content":{"type":"text","text":"hi\n"}}],"rawOutput":"hi\n"}"#))
        #expect(done.count == 1 && done[0].type == .toolResult && done[0].content == "hi\n" && done[0].extra["isError"] == .bool(false))
        // Later updates of a finished call add nothing.
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"tool_call_update","toolCallId":"t1","status":"completed"}"#)).isEmpty)

        // A failed edit with a diff: isError, the diff, and a line naming the file.
        let edit = mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t2","title":"write","kind":"edit","status":"failed","content":[{"type":"diff","path":"a.txt","newText":"x"}]}"#))
        #expect(edit.map(\.type) == [.toolUse, .toolResult])
        #expect(edit[1].extra["isError"] == .bool(true) && edit[1].content == "Created a.txt" && edit[1].extra["diff"] != nil)

        // No kind: `other`.
        let other = mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t3","title":"Think","status":"in_progress"}"#))
        #expect(other.first?.toolName == "other" && other.first?.content == "Think")
    }

    @Test("Open tool calls are closed at an interrupt, and by the next turn when the agent never said how they ended")
    func closing() {
        var mapper = ACPUpdateMapper()
        _ = mapper.beginTurn()
        _ = mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t1","title":"run","kind":"execute","status":"in_progress","rawInput":{"command":"sleep 9"}}"#))
        let closed = mapper.closeOpenTools("Interrupted")
        #expect(closed.count == 1 && closed[0].type == .toolResult && closed[0].extra["isError"] == .bool(true) && closed[0].content == "Interrupted")
        #expect(mapper.closeOpenTools("again").isEmpty)
        _ = mapper.map(Self.update(#"{"sessionUpdate":"tool_call","toolCallId":"t2","title":"run","kind":"execute","status":"pending"}"#))
        let next = mapper.beginTurn()
        #expect(next.map(\.type) == [.toolUse, .toolResult], "an unannounced call is shown, then closed")
    }

    @Test("A replay is counted, not shown, but its state is kept; updates after the turn's answer are still mapped")
    func replayAndLateUpdates() {
        var mapper = ACPUpdateMapper()
        mapper.replaying = true
        #expect(mapper.map(Self.chunk("agent_message_chunk", "old reply")).isEmpty)
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"session_info_update","title":"Old title"}"#)).isEmpty)
        #expect(mapper.replayedUpdates == 2 && mapper.title == "Old title")
        mapper.replaying = false
        _ = mapper.beginTurn()
        _ = mapper.endTurn()
        #expect(!mapper.inTurn)
        let late = mapper.map(Self.chunk("agent_message_chunk", "late words"))
        #expect(late.map(\.content) == ["late words"])
    }

    @Test("Plans, mode changes and usage")
    func planModeUsage() {
        var mapper = ACPUpdateMapper()
        mapper.setup.read(Self.update(#"{"modes":{"currentModeId":"ask","availableModes":[{"id":"ask","name":"Ask"},{"id":"code","name":"Code"}]}}"#))
        _ = mapper.beginTurn()
        let plan = mapper.map(Self.update(#"{"sessionUpdate":"plan","entries":[{"content":"Read","priority":"high","status":"completed"},{"content":"Write","priority":"low","status":"pending"}]}"#))
        #expect(plan.first?.content == "Plan:\n[x] Read\n[ ] Write" && plan.first?.extra["plan"] != nil)
        let mode = mapper.map(Self.update(#"{"sessionUpdate":"current_mode_update","currentModeId":"code"}"#))
        #expect(mode.first?.content == "The agent is now in mode Code (code).")
        #expect(mapper.setup.currentMode == "code")
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"usage_update","used":1200,"size":200000,"cost":{"amount":0.01,"currency":"USD"}}"#)).isEmpty)
        #expect(mapper.contextUsage?["used"] == .int(1200) && mapper.contextUsage?["size"] == .int(200000))
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"available_commands_update","availableCommands":[]}"#)).isEmpty)
        #expect(mapper.map(Self.update(#"{"sessionUpdate":"something_new","x":1}"#)).isEmpty)
    }

    @Test("Config options: the model option by category, the older models list, and neither")
    func modelChoice() {
        var setup = ACPProtocol.SessionSetup()
        #expect(setup.modelChoice == nil)
        setup.read(Self.update(#"{"configOptions":[{"id":"m","name":"Model","category":"model","type":"select","currentValue":"a","options":[{"value":"a","name":"A"},{"group":"more","name":"More","options":[{"value":"b","name":"B"}]}]}]}"#))
        #expect(setup.modelChoice == .configOption(id: "m", values: ["a", "b"]))
        #expect(setup.currentModel == "a")
        var older = ACPProtocol.SessionSetup()
        older.read(Self.update(#"{"models":{"currentModelId":"x","availableModels":[{"modelId":"x","name":"X"},{"modelId":"y","name":"Y"}]}}"#))
        #expect(older.modelChoice == .setModel(models: ["x", "y"]) && older.currentModel == "x")
    }
}
