import Foundation
@testable import OpenCodeAdapter
import SwitchboardAdapterAPI
import Testing

/// OpenCode's permission and question events, as the server sends them, and the replies the
/// adapter makes of answers.
@Suite("OpenCode permission and question mapping")
struct DecisionMappingTests {
    typealias E = OpenCodeEvent

    static let legacyBash = #"{"id":"per_1","type":"bash","pattern":["touch notes.txt *"],"sessionID":"ses_mine","messageID":"msg_reply","callID":"call_1","title":"touch notes.txt","metadata":{"command":"touch notes.txt","patterns":["touch notes.txt *"]},"time":{"created":1}}"#
    static let legacyEdit = #"{"id":"per_2","type":"edit","sessionID":"ses_mine","messageID":"msg_reply","callID":"call_2","title":"Edit this file: /p/notes.md","metadata":{"filePath":"/p/notes.md","diff":"+x"},"time":{"created":1}}"#
    static let askedBash = #"{"id":"per_3","sessionID":"ses_mine","permission":"bash","patterns":["touch a.txt","touch b.txt"],"metadata":{},"always":["touch *"],"tool":{"messageID":"msg_reply","callID":"call_3"}}"#
    static let askedEdit = #"{"id":"per_4","sessionID":"ses_mine","permission":"edit","patterns":["notes.md"],"metadata":{"filepath":"/p/notes.md","diff":"+x"},"always":["*"],"tool":{"messageID":"msg_reply","callID":"call_4"}}"#
    static let question = #"{"id":"que_1","sessionID":"ses_mine","questions":[{"question":"Which colour?","header":"Colour","options":[{"label":"red","description":"Warm"},{"label":"blue","description":"Cool"}]},{"question":"Which sizes?","header":"Sizes","multiple":true,"options":[{"label":"S","description":"Small"},{"label":"L","description":"Large"}]}],"tool":{"messageID":"msg_reply","callID":"call_5"}}"#

    func asked(_ type: String, _ properties: String, mapper: TurnEventMapper = .forTest()) throws -> ServerDecision {
        guard case .asked(let decision)? = mapper.decision(try E.make(type, properties)) else { throw MissingValue() }
        return decision
    }

    @Test("permission.updated (≤ 1.0.223): Bash with the title's command as subject, the metadata as input, the session-scoped route")
    func legacyBash() throws {
        let decision = try asked("permission.updated", Self.legacyBash)
        let request = decision.request
        #expect(request.id == "per_1")
        #expect(request.kind == .permission)
        #expect(request.toolName == "Bash")
        #expect(request.toolId == "call_1")
        #expect(request.subject == "touch notes.txt")
        #expect(request.summary == "touch notes.txt")
        #expect(request.input == (try JSONValue(parsing: #"{"command":"touch notes.txt","patterns":["touch notes.txt *"]}"#)))
        #expect(request.options == [Decision.allow, Decision.allowSession, Decision.deny])
        #expect(decision.route == .legacyPermission(sessionID: "ses_mine"))
        #expect(request.problem == nil)
    }

    @Test("permission.updated for an edit: Edit, the path as subject and summary")
    func legacyEdit() throws {
        let request = try asked("permission.updated", Self.legacyEdit).request
        #expect(request.toolName == "Edit")
        #expect(request.subject == "/p/notes.md")
        #expect(request.summary == "/p/notes.md")
        #expect(request.input["diff"] == .string("+x"))
    }

    @Test("permission.asked (≥ 1.0.224): the command from the tool part's input when the metadata has none; patterns kept in the input")
    func askedBashFromToolPart() throws {
        var mapper = TurnEventMapper.forTest()
        _ = mapper.handle(try E.make("message.part.updated", #"{"part":{"id":"prt_t","sessionID":"ses_mine","messageID":"msg_reply","type":"tool","callID":"call_3","tool":"bash","state":{"status":"running","input":{"command":"touch a.txt && touch b.txt"}}}}"#))
        let decision = try asked("permission.asked", Self.askedBash, mapper: mapper)
        #expect(decision.route == .permission)
        #expect(decision.request.subject == "touch a.txt && touch b.txt")
        // Named like the tool_use message: the part id, not the call id.
        #expect(decision.request.toolId == "prt_t")
        #expect(decision.request.input["patterns"] == .array([.string("touch a.txt"), .string("touch b.txt")]))
        #expect(decision.request.input["command"] == .string("touch a.txt && touch b.txt"))
        // Without the tool part, the patterns make the command.
        #expect(try asked("permission.asked", Self.askedBash).request.subject == "touch a.txt && touch b.txt")
        // 1.18 puts the command in the metadata.
        let withCommand = Self.askedBash.replacingOccurrences(of: #""metadata":{}"#, with: #""metadata":{"command":"touch c.txt"}"#)
        #expect(try asked("permission.asked", withCommand).request.subject == "touch c.txt")
    }

    @Test("permission.asked for an edit: Edit with metadata.filepath; a permission without always offers no allow_session; names are capitalized")
    func askedOthers() throws {
        let edit = try asked("permission.asked", Self.askedEdit).request
        #expect(edit.toolName == "Edit")
        #expect(edit.subject == "/p/notes.md")
        let fetch = try asked("permission.asked", #"{"id":"per_5","sessionID":"ses_mine","permission":"webfetch","patterns":["https://example.com"],"metadata":{"url":"https://example.com"},"always":[]}"#).request
        #expect(fetch.toolName == "WebFetch")
        #expect(fetch.subject == nil)
        #expect(fetch.summary == "webfetch https://example.com")
        #expect(fetch.options == [Decision.allow, Decision.deny])
        #expect(fetch.toolId == nil)
        #expect(OpenCodeDecisions.toolName("external_directory") == "External_directory")
        #expect(OpenCodeDecisions.toolName("") == "Tool")
    }

    @Test("question.asked: a question request with its questions, headers, options and multiple choice")
    func questionAsked() throws {
        let decision = try asked("question.asked", Self.question)
        #expect(decision.route == .question)
        let request = decision.request
        #expect(request.kind == .question)
        #expect(request.toolName == "Question")
        #expect(request.toolId == "call_5")
        #expect(request.options == [Decision.answer, Decision.deny])
        #expect(request.questions == [
            .init(question: "Which colour?", header: "Colour", options: [.init(label: "red", description: "Warm"), .init(label: "blue", description: "Cool")]),
            .init(question: "Which sizes?", header: "Sizes", options: [.init(label: "S", description: "Small"), .init(label: "L", description: "Large")], multiSelect: true),
        ])
        #expect(request.problem == nil)
    }

    @Test("Replied and rejected events settle a request, in both generations; other sessions and other events are not decisions")
    func settled() throws {
        let mapper = TurnEventMapper.forTest()
        let events: [(String, String, TurnEventMapper.DecisionEvent?)] = [
            ("permission.replied", #"{"sessionID":"ses_mine","permissionID":"per_1","response":"once"}"#, .settled(id: "per_1")),
            ("permission.replied", #"{"sessionID":"ses_mine","requestID":"per_3","reply":"always"}"#, .settled(id: "per_3")),
            ("question.replied", #"{"sessionID":"ses_mine","requestID":"que_1","answers":[["red"]]}"#, .settled(id: "que_1")),
            ("question.rejected", #"{"sessionID":"ses_mine","requestID":"que_2"}"#, .settled(id: "que_2")),
            ("permission.replied", #"{"sessionID":"ses_other","requestID":"per_9","reply":"once"}"#, nil),
            ("permission.asked", Self.askedBash.replacingOccurrences(of: "ses_mine", with: "ses_other"), nil),
            ("question.asked", #"{"id":"que_3","sessionID":"ses_mine"}"#, nil),
            ("session.idle", #"{"sessionID":"ses_mine"}"#, nil),
        ]
        for (type, properties, expected) in events {
            #expect(mapper.decision(try E.make(type, properties)) == expected, "\(type) \(properties)")
        }
        // The message mapper passes them by.
        var copy = mapper
        #expect(copy.handle(try E.make("permission.asked", Self.askedBash)).messages.isEmpty)
    }

    @Test("Permission answers: allow → once, allow_session → always, deny → reject with the message on the new route only")
    func permissionReplies() throws {
        let legacy = try asked("permission.updated", Self.legacyBash)
        let current = try asked("permission.asked", Self.askedBash)
        func reply(_ decision: ServerDecision, _ answer: String, _ message: String? = nil) -> (String, String?) {
            let (path, body) = decision.reply(to: DecisionAnswer(id: decision.id, decision: answer, message: message))
            return (path, body)
        }
        #expect(reply(legacy, Decision.allow) == ("/session/ses_mine/permissions/per_1", #"{"response":"once"}"#))
        #expect(reply(legacy, Decision.allowSession).1 == #"{"response":"always"}"#)
        #expect(reply(legacy, Decision.deny, "No.").1 == #"{"response":"reject"}"#)
        #expect(reply(current, Decision.allow) == ("/permission/per_3/reply", #"{"reply":"once"}"#))
        #expect(reply(current, Decision.allowSession).1 == #"{"reply":"always"}"#)
        let denied = try JSONValue(parsing: reply(current, Decision.deny, "No.").1 ?? "")
        #expect(denied == .object(["reply": .string("reject"), "message": .string("No.")]))
        #expect(reply(current, Decision.deny, "").1 == #"{"reply":"reject"}"#)
        let odd = ServerDecision(request: DecisionRequest(id: "per/x y", toolName: "Bash", summary: ""), route: .permission)
        #expect(reply(odd, Decision.allow).0 == "/permission/per%2Fx%20y/reply")
    }

    @Test("Question answers: in the order of the questions, one label each; a multiple choice's \"A, B\" split when the labels match; deny rejects")
    func questionReplies() throws {
        let decision = try asked("question.asked", Self.question)
        func answers(_ given: [String: String]) throws -> JSONValue {
            let (path, body) = decision.reply(to: DecisionAnswer(id: "que_1", decision: Decision.answer, answers: given))
            #expect(path == "/question/que_1/reply")
            return try JSONValue(parsing: body ?? "")["answers"] ?? .null
        }
        #expect(try answers(["Which sizes?": "S, L", "Which colour?": "blue"]) == (try JSONValue(parsing: #"[["blue"],["S","L"]]"#)))
        #expect(try answers(["Which colour?": " red ", "Which sizes?": "S, XL"]) == (try JSONValue(parsing: #"[["red"],["S, XL"]]"#)))
        #expect(try answers(["Which colour?": "green, please"]) == (try JSONValue(parsing: #"[["green, please"],[]]"#)))
        let (path, body) = decision.reply(to: DecisionAnswer(id: "que_1", decision: Decision.deny, message: "No."))
        #expect(path == "/question/que_1/reject")
        #expect(body == nil)
    }

    @Test("Requests of the sessions of sub-agents this session started (and theirs) are this turn's; of other children, not")
    func subAgentSessions() throws {
        var mapper = TurnEventMapper.forTest()
        func created(_ id: String, parent: String) throws -> JSONValue {
            try E.make("session.created", #"{"info":{"id":"\#(id)","parentID":"\#(parent)","title":"sub","time":{"created":1}}}"#)
        }
        _ = mapper.feed([try created("ses_child", parent: "ses_mine"), try created("ses_grandchild", parent: "ses_child"),
                         try created("ses_stranger", parent: "ses_other")])
        #expect(mapper.childSessions == ["ses_child", "ses_grandchild"])
        for session in ["ses_child", "ses_grandchild"] {
            let decision = try asked("permission.asked", Self.askedBash.replacingOccurrences(of: "ses_mine", with: session), mapper: mapper)
            #expect(decision.id == "per_3")
        }
        #expect(mapper.decision(try E.make("permission.asked", Self.askedBash.replacingOccurrences(of: "ses_mine", with: "ses_stranger"))) == nil)
        let legacy = try asked("permission.updated", Self.legacyBash.replacingOccurrences(of: "ses_mine", with: "ses_child"), mapper: mapper)
        #expect(legacy.route == .legacyPermission(sessionID: "ses_child"))
    }
}
