@testable import OpenCodeAdapter
import SwitchboardAdapterAPI
import Testing

/// The OpenCode server's events, shaped as OpenCode sends them, for one turn: session
/// `ses_mine`, user message `msg_user`, the reply `msg_reply`.
enum OpenCodeEvent {
    static let session = "ses_mine"
    static let user = "msg_user"
    static let reply = "msg_reply"

    static func make(_ type: String, _ properties: String) throws -> JSONValue {
        try JSONValue(parsing: #"{"type":"\#(type)","properties":\#(properties)}"#)
    }

    /// The user's message, as the server echoes it.
    static func userMessage() throws -> JSONValue {
        try make("message.updated", #"{"info":{"id":"\#(user)","sessionID":"\#(session)","role":"user","time":{"created":1}}}"#)
    }

    /// The assistant message `id` answering `parent`, in `session`; completed and/or with an error.
    static func assistant(id: String = reply, parent: String = user, session: String = session, model: String = "opencode/model-a",
                          completed: Bool = false, error: String? = nil) throws -> JSONValue {
        let (provider, modelID) = (model.split(separator: "/")[0], model.split(separator: "/")[1])
        let time = completed ? #"{"created":1,"completed":2}"# : #"{"created":1}"#
        let errorField = error.map { #","error":\#($0)"# } ?? ""
        return try make("message.updated", #"{"info":{"id":"\#(id)","sessionID":"\#(session)","role":"assistant","parentID":"\#(parent)","providerID":"\#(provider)","modelID":"\#(modelID)","time":\#(time)\#(errorField)}}"#)
    }

    /// `message.part.updated` for a text part (OpenCode < 1.2 sends its deltas this way).
    static func textPart(_ part: String, text: String, delta: String? = nil, message: String = reply, session: String = session) throws -> JSONValue {
        let deltaField = delta.map { #","delta":\#(JSONValue.string($0).jsonText)"# } ?? ""
        return try make("message.part.updated", #"{"part":{"id":"\#(part)","sessionID":"\#(session)","messageID":"\#(message)","type":"text","text":\#(JSONValue.string(text).jsonText)}\#(deltaField)}"#)
    }

    /// `message.part.delta` (OpenCode ≥ 1.2).
    static func delta(_ part: String, _ text: String, message: String = reply, session: String = session, field: String = "text") throws -> JSONValue {
        try make("message.part.delta", #"{"sessionID":"\#(session)","messageID":"\#(message)","partID":"\#(part)","field":"\#(field)","delta":\#(JSONValue.string(text).jsonText)}"#)
    }

    /// A tool part in `state` (a JSON object).
    static func tool(_ part: String, state: String) throws -> JSONValue {
        try make("message.part.updated", #"{"part":{"id":"\#(part)","sessionID":"\#(session)","messageID":"\#(reply)","type":"tool","callID":"call_1","tool":"bash","state":\#(state)}}"#)
    }

    static func sessionError(_ name: String, _ message: String, session: String = session) throws -> JSONValue {
        try make("session.error", #"{"sessionID":"\#(session)","error":\#(errorObject(name, message))}"#)
    }

    static func errorObject(_ name: String, _ message: String) -> String {
        #"{"name":"\#(name)","data":{"message":"\#(message)"}}"#
    }

    static func idle(session: String = session) throws -> JSONValue {
        try make("session.idle", #"{"sessionID":"\#(session)"}"#)
    }

    static func status(_ type: String, session: String = session) throws -> JSONValue {
        try make("session.status", #"{"sessionID":"\#(session)","status":{"type":"\#(type)"}}"#)
    }
}

/// What a mapper made of a run of events: every message, and each end with the index of the
/// event that produced it.
struct MappedTurn {
    var messages: [ChatMessage] = []
    var ends: [(event: Int, end: TurnEventMapper.End)] = []

    var assistantText: [String] { messages.filter { $0.type == .assistant }.map(\.content) }
}

extension TurnEventMapper {
    /// A mapper for `ses_mine` / `msg_user`.
    static func forTest() -> TurnEventMapper {
        TurnEventMapper(sessionID: OpenCodeEvent.session, userMessageID: OpenCodeEvent.user)
    }

    /// Feeds `events` in order and collects what they yield.
    mutating func feed(_ events: [JSONValue]) -> MappedTurn {
        var turn = MappedTurn()
        for (index, event) in events.enumerated() {
            let (messages, end) = handle(event)
            turn.messages += messages
            if let end { turn.ends.append((index, end)) }
        }
        return turn
    }
}

@Suite("OpenCode event mapper")
struct TurnEventMapperTests {
    typealias E = OpenCodeEvent

    @Test("Text deltas of message.part.delta (OpenCode ≥ 1.2) become assistant messages of the reply; the completed reply ends the turn with done and the model")
    func currentProtocolText() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.userMessage(), try E.textPart("prt_u", text: "hello", message: E.user),
            try E.assistant(), try E.textPart("prt_1", text: ""),
            try E.delta("prt_1", "Echo: "), try E.delta("prt_1", "hello"),
            // The final snapshot repeats what the deltas delivered: nothing new.
            try E.textPart("prt_1", text: "Echo: hello"),
            try E.assistant(completed: true),
        ])
        #expect(turn.assistantText == ["Echo: ", "hello"])
        #expect(turn.messages.allSatisfy { $0.type == .assistant && $0.messageId == E.reply })
        #expect(turn.ends.map(\.event) == [7])
        #expect(turn.ends.first?.end == .done(model: "opencode/model-a"))
    }

    @Test("Text deltas in message.part.updated (OpenCode < 1.2) become assistant messages; a later full snapshot adds only what is new")
    func legacyProtocolText() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.userMessage(), try E.assistant(),
            try E.textPart("prt_1", text: "Echo: ", delta: "Echo: "),
            try E.textPart("prt_1", text: "Echo: hel", delta: "hel"),
            try E.textPart("prt_1", text: "Echo: hello"),
            try E.textPart("prt_1", text: "Echo: hello"),
        ])
        #expect(turn.assistantText == ["Echo: ", "hel", "lo"])
        #expect(turn.messages.allSatisfy { $0.messageId == E.reply })
        #expect(turn.ends.isEmpty)
    }

    @Test("The parts of the user's own message are ignored, in both protocol generations")
    func userPartsIgnored() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.userMessage(), try E.assistant(),
            try E.textPart("prt_u", text: "hello", delta: "hello", message: E.user),
            try E.textPart("prt_u", text: "hello", message: E.user),
            try E.delta("prt_u", "hello", message: E.user),
        ])
        #expect(turn.messages.isEmpty)
        #expect(turn.ends.isEmpty)
    }

    @Test("Events of other sessions are ignored: their text, replies, errors and idles")
    func otherSessionsIgnored() throws {
        var mapper = TurnEventMapper.forTest()
        let other = "ses_other"
        let turn = mapper.feed([
            try E.assistant(session: other), try E.assistant(session: other, completed: true),
            try E.delta("prt_x", "not mine", session: other),
            try E.textPart("prt_y", text: "not mine", delta: "not mine", session: other),
            try E.sessionError("APIError", "someone else's failure", session: other),
            try E.idle(session: other), try E.status("idle", session: other),
        ])
        #expect(turn.messages.isEmpty)
        #expect(turn.ends.isEmpty)
        #expect(!mapper.replyStarted)
        // Mine still works afterwards, and no error of the other session fails it.
        let mine = mapper.feed([try E.assistant(), try E.delta("prt_1", "mine"), try E.idle()])
        #expect(mine.assistantText == ["mine"])
        #expect(mine.ends.first?.end == .done(model: "opencode/model-a"))
    }

    @Test("An assistant message answering another user message is not this turn's reply")
    func otherRepliesIgnored() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([try E.assistant(id: "msg_old", parent: "msg_earlier", completed: true), try E.idle()])
        #expect(turn.ends.isEmpty)
        #expect(!mapper.replyStarted)
    }

    @Test("A tool part yields one tool_use once its input is known and one tool_result when it completes; deltas on it are not text")
    func toolUseAndResult() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.assistant(),
            try E.tool("prt_t", state: #"{"status":"pending","input":{}}"#),
            try E.tool("prt_t", state: #"{"status":"running","input":{"command":"ls"},"title":"List files"}"#),
            try E.tool("prt_t", state: #"{"status":"running","input":{"command":"ls"},"title":"List files"}"#),
            try E.delta("prt_t", "not text"),
            try E.tool("prt_t", state: #"{"status":"completed","input":{"command":"ls"},"title":"List files","output":"README.md\nSources"}"#),
            try E.tool("prt_t", state: #"{"status":"completed","input":{"command":"ls"},"title":"List files","output":"README.md\nSources"}"#),
        ])
        #expect(turn.messages.map(\.type) == [.toolUse, .toolResult])
        let use = try #require(turn.messages.first)
        #expect(use.toolName == "bash")
        #expect(use.toolId == "prt_t")
        #expect(use.content == #"{"command":"ls"}"#)
        #expect(use.extra == ["title": .string("List files"), "callId": .string("call_1")])
        let result = try #require(turn.messages.last)
        #expect(result.toolId == "prt_t")
        #expect(result.content == "README.md\nSources")
        #expect(result.extra["isError"] == nil)
    }

    @Test("A failed tool part yields its tool_use and a tool_result flagged as an error")
    func toolFailure() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.assistant(),
            try E.tool("prt_t", state: #"{"status":"error","input":{"command":"ls"},"error":"ls: permission denied"}"#),
        ])
        #expect(turn.messages.map(\.type) == [.toolUse, .toolResult])
        #expect(turn.messages.last?.content == "ls: permission denied")
        #expect(turn.messages.last?.extra["isError"] == .bool(true))
    }

    @Test("session.error is reported once as an error message; the idle after it ends the turn failed with that reason")
    func sessionErrorThenIdle() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([
            try E.assistant(),
            try E.sessionError("APIError", "simulated provider failure"),
            try E.sessionError("APIError", "again"),
            try E.idle(),
        ])
        let reason = "OpenCode: simulated provider failure (APIError)"
        #expect(turn.messages.count == 1)
        #expect(turn.messages.first?.type == .error)
        #expect(turn.messages.first?.content == reason)
        #expect(turn.ends.map(\.event) == [3])
        #expect(turn.ends.first?.end == .failed(reason))
    }

    @Test("An error before the reply started still fails the turn at the next idle")
    func errorBeforeReply() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([try E.userMessage(), try E.sessionError("ProviderAuthError", "no key"), try E.status("idle")])
        #expect(turn.messages.map(\.content) == ["OpenCode: no key (ProviderAuthError)"])
        #expect(turn.ends.first?.end == .failed("OpenCode: no key (ProviderAuthError)"))
    }

    @Test("An error on the reply message ends the turn failed at once, reported once even after session.error")
    func errorOnReply() throws {
        var mapper = TurnEventMapper.forTest()
        let error = E.errorObject("APIError", "overloaded")
        let turn = mapper.feed([try E.assistant(), try E.sessionError("APIError", "overloaded"), try E.assistant(completed: true, error: error)])
        #expect(turn.messages.map(\.type) == [.error])
        #expect(turn.ends.map(\.event) == [2])
        #expect(turn.ends.first?.end == .failed("OpenCode: overloaded (APIError)"))
    }

    @Test("MessageAbortedError is not an error: no message, and the turn does not fail")
    func abortIgnored() throws {
        var mapper = TurnEventMapper.forTest()
        let aborted = E.errorObject("MessageAbortedError", "The operation was aborted.")
        let turn = mapper.feed([
            try E.assistant(), try E.delta("prt_1", "partial"),
            try E.sessionError("MessageAbortedError", "The operation was aborted."),
            try E.assistant(completed: true, error: aborted),
            try E.idle(),
        ])
        #expect(turn.messages.map(\.type) == [.assistant])
        #expect(turn.ends.map(\.event) == [4])
        #expect(turn.ends.first?.end == .done(model: "opencode/model-a"))
    }

    @Test("An idle before the reply started does not end the turn; one after it ends the turn with done and the model")
    func prematureIdle() throws {
        var mapper = TurnEventMapper.forTest()
        let early = mapper.feed([
            try E.userMessage(), try E.textPart("prt_u", text: "hi", message: E.user),
            try E.status("idle"), try E.idle(), try E.status("busy"),
        ])
        #expect(early.messages.isEmpty)
        #expect(early.ends.isEmpty)
        #expect(!mapper.replyStarted)
        let reply = mapper.feed([try E.assistant(model: "anthropic/claude-sonnet-4"), try E.delta("prt_1", "Hi!"), try E.status("busy"), try E.idle()])
        #expect(mapper.replyStarted)
        #expect(reply.assistantText == ["Hi!"])
        #expect(reply.ends.map(\.event) == [3])
        #expect(reply.ends.first?.end == .done(model: "anthropic/claude-sonnet-4"))
    }

    @Test("A session.status idle after the reply started ends the turn like session.idle")
    func statusIdleEnds() throws {
        var mapper = TurnEventMapper.forTest()
        let turn = mapper.feed([try E.assistant(), try E.status("idle")])
        #expect(turn.ends.first?.end == .done(model: "opencode/model-a"))
    }

    @Test("A step that ends in tool calls does not end the turn; the next step's completion does")
    func multiStepReply() throws {
        var mapper = TurnEventMapper.forTest()
        let step = #"{"info":{"id":"msg_a","sessionID":"ses_mine","role":"assistant","parentID":"msg_user","providerID":"p","modelID":"m","finish":"tool-calls","time":{"created":1,"completed":2}}}"#
        let last = #"{"info":{"id":"msg_b","sessionID":"ses_mine","role":"assistant","parentID":"msg_user","providerID":"p","modelID":"m","finish":"stop","time":{"created":3,"completed":4}}}"#
        let turn = mapper.feed([try E.make("message.updated", step), try E.delta("prt_1", "Done", message: "msg_b"), try E.make("message.updated", last)])
        #expect(turn.ends.map(\.event) == [2])
        #expect(turn.ends.first?.end == .done(model: "p/m"))
    }

    @Test("Error descriptions quote the message and name the error", arguments: [
        (#"{"name":"APIError","data":{"message":"rate limited"}}"#, "OpenCode: rate limited (APIError)"),
        (#"{"name":"UnknownError","message":"top-level message"}"#, "OpenCode: top-level message (UnknownError)"),
        (#"{"name":"ProviderAuthError","data":{}}"#, "OpenCode reported ProviderAuthError."),
        (#"{"data":{"message":"nameless"}}"#, "OpenCode: nameless (UnknownError)"),
    ])
    func describeErrors(error: String, expected: String) throws {
        #expect(TurnEventMapper.describe(try JSONValue(parsing: error)) == expected)
    }
}
