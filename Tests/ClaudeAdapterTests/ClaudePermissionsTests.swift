import Testing
import SwitchboardAdapterAPI
@testable import ClaudeAdapter

@Suite("Claude permission prompts as decision requests")
struct ClaudePermissionsTests {
    static let canUseTool = try! JSONValue(parsing: #"""
    {"subtype":"can_use_tool","tool_name":"Bash","display_name":"Bash","tool_use_id":"toolu_01",
     "input":{"command":"touch made-by-tool && echo hi","description":"Make a file"},
     "permission_suggestions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"touch made-by-tool *"}],"behavior":"allow","destination":"localSettings"}]}
    """#).objectValue!

    @Test("can_use_tool becomes a permission request: command as summary and subject, allow_session when suggestions exist")
    func permission() throws {
        let request = try #require(ClaudePermissions.decisionRequest(id: "r1", Self.canUseTool))
        #expect(request.id == "r1" && request.kind == .permission && request.toolName == "Bash" && request.toolId == "toolu_01")
        #expect(request.summary == "touch made-by-tool && echo hi" && request.subject == "touch made-by-tool && echo hi")
        #expect(request.options == ["allow", "allow_session", "deny"])
        var plain = Self.canUseTool
        plain["permission_suggestions"] = nil
        #expect(ClaudePermissions.decisionRequest(id: "r2", plain)?.options == ["allow", "deny"])
        let write = try JSONValue(parsing: #"{"subtype":"can_use_tool","tool_name":"Write","input":{"file_path":"/p/a.txt","content":"x"}}"#).objectValue!
        #expect(ClaudePermissions.decisionRequest(id: "r3", write)?.subject == "/p/a.txt")
        let other = try JSONValue(parsing: #"{"subtype":"hook_callback","callback_id":"x"}"#).objectValue!
        #expect(ClaudePermissions.decisionRequest(id: "r4", other) == nil)
    }

    @Test("AskUserQuestion becomes a question with its options")
    func question() throws {
        let ask = try JSONValue(parsing: #"""
        {"subtype":"can_use_tool","tool_name":"AskUserQuestion","input":{"questions":[{"question":"Which color?","header":"Color",
         "options":[{"label":"Red","description":"warm"},{"label":"Blue","description":"cool"}],"multiSelect":false}]}}
        """#).objectValue!
        let request = try #require(ClaudePermissions.decisionRequest(id: "q1", ask))
        #expect(request.kind == .question && request.options == ["answer", "deny"] && request.summary == "Which color?")
        #expect(request.questions == [.init(question: "Which color?", header: "Color", options: [.init(label: "Red", description: "warm"), .init(label: "Blue", description: "cool")])])
        let line = String(decoding: ClaudePermissions.response(requestId: "q1", request: ask, answer: DecisionAnswer(id: "q1", decision: "answer", answers: ["Which color?": "Blue"])), as: UTF8.self)
        let response = try JSONValue(parsing: line)["response"]?["response"]
        #expect(response?["behavior"] == .string("allow"))
        #expect(response?["updatedInput"]?["answers"] == .object(["Which color?": .string("Blue")]))
        #expect(response?["updatedInput"]?["questions"]?.arrayValue?.count == 1)
    }

    @Test("Answers become the control_response lines the CLI expects")
    func responses() throws {
        func body(_ answer: DecisionAnswer?) throws -> JSONValue {
            let line = String(decoding: ClaudePermissions.response(requestId: "r1", request: Self.canUseTool, answer: answer), as: UTF8.self)
            #expect(line.hasSuffix("}\n"))
            let object = try JSONValue(parsing: line)
            #expect(object["type"] == .string("control_response"))
            #expect(object["response"]?["subtype"] == .string("success") && object["response"]?["request_id"] == .string("r1"))
            return object["response"]?["response"] ?? .null
        }
        let allow = try body(DecisionAnswer(id: "r1", decision: "allow"))
        #expect(allow["behavior"] == .string("allow") && allow["updatedInput"] == Self.canUseTool["input"] && allow["updatedPermissions"] == nil)
        let session = try body(DecisionAnswer(id: "r1", decision: "allow_session"))
        // The suggestion as the CLI made it, but for this session only (never a settings file).
        var suggestion = Self.canUseTool["permission_suggestions"]!.arrayValue![0].objectValue!
        #expect(suggestion["destination"] == .string("localSettings"))
        suggestion["destination"] = .string("session")
        #expect(session["updatedPermissions"] == .array([.object(suggestion)]))
        let deny = try body(DecisionAnswer(id: "r1", decision: "deny", message: "Not here."))
        #expect(deny == .object(["behavior": .string("deny"), "message": .string("Not here.")]))
        let withdrawn = try body(nil)
        #expect(withdrawn["behavior"] == .string("deny") && withdrawn["message"]?.stringValue?.contains("withdrawn") == true)
        let refusal = try JSONValue(parsing: String(decoding: ClaudePermissions.refusal(requestId: "x", subtype: "hook_callback"), as: UTF8.self))
        #expect(refusal["response"]?["subtype"] == .string("error") && refusal["response"]?["request_id"] == .string("x"))
    }

    @Test("The mapper passes control requests and cancellations to the adapter")
    func mapper() {
        var mapper = ClaudeStreamMapper()
        let events = mapper.map(#"{"type":"control_request","request_id":"r9","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}"#)
        guard case .controlRequest(let id, let request)? = events.first else {
            Issue.record("\(events)")
            return
        }
        #expect(id == "r9" && request["tool_name"] == .string("Bash"))
        #expect(mapper.map(#"{"type":"control_cancel_request","request_id":"r9"}"#) == [.controlCancel(requestId: "r9")])
        #expect(mapper.map(#"{"type":"control_request","request":{}}"#).isEmpty)
        #expect(mapper.skippedLineCount == 1)
    }
}
