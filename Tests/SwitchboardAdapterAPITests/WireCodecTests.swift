#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwitchboardAdapterAPI

@Suite("Wire codec")
struct WireCodecTests {
    @Test("Integers are written as their decimal text, the extremes and wider types too")
    func integers() {
        for value in [0, 7, 10, -1, -10, 1_234_567_890, Int.max, Int.min] {
            var writer = JSONWriter()
            writer.appendInt(value)
            #expect(writer.string == String(value))
        }
        var wide = JSONWriter()
        wide.appendInt(UInt64.max)
        #expect(wide.string == "18446744073709551615")
    }

    @Test("A chat message with every field survives a round trip")
    func chatMessageRoundTrip() throws {
        let message = ChatMessage(
            type: .toolResult,
            content: "line 1\nline \"2\"\t\\ ünïcödé 🎉 \u{01}",
            timestamp: "2026-11-25T09:33:26.123Z",
            messageId: "msg_1",
            toolName: "Bash",
            toolId: "toolu_9",
            extra: ["isError": .bool(true), "usage": .object(["input_tokens": .int(12)])]
        )
        let text = message.jsonText
        #expect(text.hasPrefix("{\"type\":\"tool_result\",\"content\":\"line 1\\nline \\\"2\\\"\\t\\\\ ünïcödé 🎉 \\u0001\""))
        let back = try ChatMessage(jsonText: text)
        #expect(back == message)
    }

    @Test("Field names are exactly the ones clients of the original read")
    func fieldNames() throws {
        let text = ChatMessage(type: .toolUse, content: "{}", timestamp: "t", messageId: "m", toolName: "n", toolId: "i").jsonText
        let object = try #require(JSONValue(parsing: text).objectValue)
        #expect(Set(object.keys) == ["type", "content", "timestamp", "messageId", "toolName", "toolId"])
        #expect(object["type"] == .string("tool_use"))
        let minimal = try #require(JSONValue(parsing: ChatMessage(type: .done, content: "x", timestamp: "t").jsonText).objectValue)
        #expect(Set(minimal.keys) == ["type", "content", "timestamp"])
    }

    @Test("Special characters are found at every position, across 8-byte words")
    func specialsAtEveryPosition() throws {
        for length in 0..<40 {
            for position in 0..<max(length, 1) {
                for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}", "é"] {
                    var chars = Array(repeating: "a", count: length)
                    if length > 0 { chars[position] = special }
                    let text = chars.joined()
                    let message = ChatMessage(type: .assistant, content: text, timestamp: "t")
                    let json = message.jsonText
                    #expect(try ChatMessage(jsonText: json).content == text, "length \(length) position \(position)")
                    // An unescaped control character is refused wherever it stands.
                    if special == "\u{01}" && length > 0 {
                        let raw = "{\"type\":\"user\",\"content\":\"\(text)\",\"timestamp\":\"t\"}"
                        #expect(throws: JSONError.self) { try ChatMessage(jsonText: raw) }
                    }
                }
            }
        }
    }

    @Test("Escapes, surrogate pairs and null optionals are read")
    func readingEscapes() throws {
        let message = try ChatMessage(jsonText: #"{"type":"assistant","content":"a\u00e9\ud83c\udf89\/\b\f\r","timestamp":"t","messageId":null}"#)
        #expect(message.content == "aé🎉/\u{08}\u{0C}\r")
        #expect(message.messageId == nil)
    }

    @Test("Every event kind survives a round trip", arguments: [
        PluginEvent.message(ChatMessage(type: .assistant, content: "hi", timestamp: "t", messageId: "m"), request: 3),
        PluginEvent.message(ChatMessage(type: .done, content: "Response complete", timestamp: "t"), request: nil),
        PluginEvent.status(.running, agentSessionId: "abc", request: nil),
        PluginEvent.status(.interrupted, agentSessionId: nil, request: 9),
        PluginEvent.error(AdapterError(.plugin, "boom \"quoted\""), request: nil),
        PluginEvent.error(AdapterError(.agentFailure, "claude exited"), request: 4),
        PluginEvent.completed(request: 18_446_744_073_709_551_615),
        PluginEvent.failed(request: 2, error: AdapterError(.notImplemented, "Codex adapter not yet implemented")),
        PluginEvent.failed(request: 5, error: AdapterError(.plugin, "no code")),
        PluginEvent.failed(request: 6, error: AdapterError(AdapterError.Code("someFutureCode_2"), "a code this host does not know")),
        PluginEvent.ask(DecisionRequest(id: "a1", toolName: "Bash", toolId: "toolu_1", input: .object(["command": .string("touch x")]),
                                        summary: "touch x", options: ["allow", "allow_session", "deny"], subject: "touch x"), request: nil),
        PluginEvent.ask(DecisionRequest(id: "q1", kind: .question, toolName: "AskUserQuestion", summary: "Which color?",
                                        options: ["answer", "deny"], questions: [
                                            .init(question: "Which color?", header: "Color", options: [.init(label: "Red", description: "warm"), .init(label: "Blue")], multiSelect: true),
                                        ]), request: 7),
        PluginEvent.withdraw(id: "a1", reason: .interrupt, request: nil),
        PluginEvent.withdraw(id: "a2", reason: .turnEnded, request: nil),
    ])
    func eventRoundTrip(event: PluginEvent) throws {
        var bytes = Array(event.jsonText.utf8)
        let back = try bytes.withUnsafeMutableBufferPointer { try PluginEvent(jsonBytes: UnsafeBufferPointer($0)) }
        #expect(back == event)
    }

    @Test("An error's code is written as 'code', and 'plugin' (the default) is left out")
    func errorCodeOnTheWire() {
        #expect(PluginEvent.failed(request: 3, error: AdapterError(.invalidState, "A turn is already running.")).jsonText
            == #"{"event":"failed","request":3,"error":"A turn is already running.","code":"invalidState"}"#)
        #expect(PluginEvent.error(AdapterError(.agentFailure, "died"), request: nil).jsonText
            == #"{"event":"error","error":"died","code":"agentFailure"}"#)
        #expect(PluginEvent.failed(request: 3, error: AdapterError(.plugin, "x")).jsonText
            == #"{"event":"failed","request":3,"error":"x"}"#)
    }

    @Test("A missing, malformed or mistyped 'code' reads as 'plugin'", arguments: [
        (#"{"event":"failed","request":1,"error":"e"}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":"invalidSettings"}"#, "invalidSettings"),
        (#"{"code":"notFound","event":"failed","request":1,"error":"e"}"#, "notFound"),
        (#"{"event":"failed","request":1,"error":"e","code":"not a code"}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":""}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":"9lives"}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":"\#(String(repeating: "a", count: 65))"}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":42}"#, "plugin"),
        (#"{"event":"failed","request":1,"error":"e","code":{"name":"invalidState"}}"#, "plugin"),
        (#"{"event":"error","error":"e","code":"agentFailure"}"#, "agentFailure"),
        (#"{"event":"error","error":"e","code":null}"#, "plugin"),
    ])
    func errorCodeReading(text: String, code: String) throws {
        var bytes = Array(text.utf8)
        let event = try bytes.withUnsafeMutableBufferPointer { try PluginEvent(jsonBytes: UnsafeBufferPointer($0)) }
        switch event {
        case .failed(_, let error), .error(let error, _):
            #expect(error.code.name == code)
            #expect(error.message == "e")
        default:
            Issue.record("read as \(event)")
        }
    }

    @Test("Malformed events are errors that say what is wrong", arguments: [
        (#"{"event":"message","#, "unexpected end of input"),
        (#"{"event":"teleport"}"#, "unknown event 'teleport'"),
        (#"{"event":"message"}"#, "'message' event has no 'message'"),
        (#"{"event":"message","message":{"type":"shout","content":"x"}}"#, "unknown message type 'shout'"),
        (#"{"event":"status","status":"sleeping"}"#, "unknown status 'sleeping'"),
        (#"{"event":"completed"}"#, "'completed' event has no 'request'"),
        (#"{"status":"idle"}"#, "no 'event' field"),
        (#"{"event":"error","error":"x"} trailing"#, "unexpected trailing characters"),
        (#"["event"]"#, "expected '{'"),
        ("{\"event\":\"error\",\"error\":\"a\u{01}b\"}", "control character in string"),
    ])
    func malformedEvents(text: String, expected: String) {
        var bytes = Array(text.utf8)
        do {
            _ = try bytes.withUnsafeMutableBufferPointer { buffer throws(JSONError) in try PluginEvent(jsonBytes: UnsafeBufferPointer(buffer)) }
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("A decision request's wire form has the header's keys; answers cross back")
    func decisionWireForm() throws {
        let ask = PluginEvent.ask(DecisionRequest(id: "a1", toolName: "Bash", input: .object(["command": .string("ls")]), summary: "ls"), request: nil)
        #expect(ask.jsonText == #"{"event":"ask","ask":{"id":"a1","input":{"command":"ls"},"kind":"permission","options":["allow","deny"],"summary":"ls","toolName":"Bash"}}"#)
        #expect(PluginEvent.withdraw(id: "a1", reason: .dispose, request: nil).jsonText == #"{"event":"withdraw","id":"a1","reason":"dispose"}"#)
        // A reason this host does not know reads as `agent`.
        var bytes = Array(#"{"event":"withdraw","id":"x","reason":"moonphase"}"#.utf8)
        let read = try bytes.withUnsafeMutableBufferPointer { try PluginEvent(jsonBytes: UnsafeBufferPointer($0)) }
        #expect(read == .withdraw(id: "x", reason: .agent, request: nil))
        let answer = DecisionAnswer(id: "q1", decision: "answer", message: nil, answers: ["Which color?": "Blue"])
        #expect(answer.jsonValue.jsonText == #"{"answers":{"Which color?":"Blue"},"decision":"answer","id":"q1"}"#)
        #expect(try DecisionAnswer(json: answer.jsonValue) == answer)
        for (text, fragment) in [(#"{"decision":"allow"}"#, "'id'"), (#"{"id":"a"}"#, "'decision'"), (#"{"id":"a","decision":"answer","answers":{"q":1}}"#, "answer to 'q'")] {
            #expect(throws: JSONError.self) { try DecisionAnswer(json: JSONValue(parsing: text)) }
            do { _ = try DecisionAnswer(json: JSONValue(parsing: text)) } catch { #expect(error.reason.contains(fragment), "\(error.reason)") }
        }
    }

    @Test("Malformed decision requests are errors that say what is wrong", arguments: [
        (#"{"event":"ask"}"#, "'ask' event has no 'ask'"),
        (#"{"event":"ask","ask":{"toolName":"Bash","options":["allow"]}}"#, "'id' must be a string"),
        (#"{"event":"ask","ask":{"id":"a","toolName":"Bash"}}"#, "'options' must be an array of strings"),
        (#"{"event":"ask","ask":{"id":"a","kind":"wish","toolName":"Bash","options":["allow"]}}"#, "kind 'wish' is not one of permission, question"),
        (#"{"event":"ask","ask":{"id":"a","toolName":"Bash","options":["allow",3]}}"#, "'options' must be an array of strings"),
        (#"{"event":"withdraw"}"#, "'withdraw' event has no 'id'"),
    ])
    func malformedDecisionEvents(text: String, expected: String) {
        var bytes = Array(text.utf8)
        do {
            _ = try bytes.withUnsafeMutableBufferPointer { buffer throws(JSONError) in try PluginEvent(jsonBytes: UnsafeBufferPointer(buffer)) }
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("Start options cross as JSON and back")
    func startOptions() throws {
        let options = StartOptions(workspaceName: "@host", containerName: nil, agentSessionId: "s-1", model: "opus",
                                   projectPath: "/tmp/p \"q\"", isHost: true, stateDirectory: "/var/lib/sb")
        var bytes = Array(options.jsonText.utf8)
        let back = try bytes.withUnsafeMutableBufferPointer { try StartOptions(jsonBytes: UnsafeBufferPointer($0)) }
        #expect(back == options)
        #expect(options.jsonText.contains(#""answersDecisions":true"#))
        // A host that predates decisions does not say it answers them: it does not.
        var old = Array(#"{"workspaceName":"w","isHost":false}"#.utf8)
        let fromOldHost = try old.withUnsafeMutableBufferPointer { try StartOptions(jsonBytes: UnsafeBufferPointer($0)) }
        #expect(fromOldHost.answersDecisions == false)
    }

    @Test("JSON values keep numbers exact and reject invalid documents")
    func jsonValues() throws {
        let value = try JSONValue(parsing: #"{"big": 9007199254740993, "neg": -1.5e3, "list": [true, false, null], "s": "x"}"#)
        #expect(value["big"] == .number("9007199254740993"))
        #expect(value["big"]?.intValue == 9_007_199_254_740_993)
        #expect(value["neg"]?.doubleValue == -1500)
        #expect(value["list"] == .array([.bool(true), .bool(false), .null]))
        #expect(try JSONValue(parsing: value.jsonText) == value)
        for bad in ["", "{", "[1,]", "{\"a\":1,}", "01", "tru", "\"abc", "{\"a\" 1}", "1 2"] {
            #expect(throws: JSONError.self, "\(bad)") { try JSONValue(parsing: bad) }
        }
    }

    @Test("Timestamps are ISO-8601 UTC with milliseconds")
    func timestamps() {
        #expect(Timestamp.format(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(Timestamp.format(seconds: 1_795_599_206, milliseconds: 123) == "2026-11-25T09:33:26.123Z")
        let now = Timestamp.now()
        #expect(now.count == 24)
        #expect(now.hasSuffix("Z"))
        #expect(Array(now)[10] == "T" && Array(now)[19] == ".")
    }

    @Test("Timestamps agree with gmtime_r from year 0 to 9999, and any other time is clamped to them")
    func timestampsAgainstTheCLibrary() {
        func reference(_ seconds: Int, _ millis: Int) -> String {
            var t = time_t(seconds)
            var parts = tm()
            gmtime_r(&t, &parts)
            func pad(_ v: Int32, _ width: Int) -> String {
                let digits = String(v)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
            return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
                + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
        }
        var generator = SystemRandomNumberGenerator()
        var samples = [0, -1, 86_399, 86_400, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_400,
                       -62_167_219_200, 253_402_300_799, -2_208_988_800, 1_795_599_206]
        for _ in 0..<5_000 { samples.append(Int.random(in: -62_167_219_200...253_402_300_799, using: &generator)) }
        for seconds in samples {
            let millis = Int.random(in: 0...999, using: &generator)
            #expect(Timestamp.format(seconds: seconds, milliseconds: millis) == reference(seconds, millis), "\(seconds)")
        }
        // Milliseconds carry, either way.
        #expect(Timestamp.format(seconds: 0, milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(seconds: 0, milliseconds: 86_400_001) == "1970-01-02T00:00:00.001Z")
        #expect(Timestamp.format(seconds: 10, milliseconds: Int.min) == "0000-01-01T00:00:00.000Z")
        // Outside four digits of years: the first or last millisecond they have.
        #expect(Timestamp.format(seconds: Int.min, milliseconds: 0) == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp.format(seconds: -62_167_219_201, milliseconds: 500) == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp.format(seconds: 253_402_300_800, milliseconds: 0) == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp.format(seconds: Int.max, milliseconds: Int.max) == "9999-12-31T23:59:59.999Z")
    }
}
