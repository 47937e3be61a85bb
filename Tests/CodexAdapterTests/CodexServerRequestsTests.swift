import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardProcess
import SwitchboardTesting
@testable import CodexAdapter

/// Server→client requests: every one answered, approvals through one decision point.
@Suite("Codex server requests")
struct CodexServerRequestsTests {
    /// What the requests answered, in order.
    final class Answers: Sendable {
        let list = Recorder<(id: JSONValue, answer: Result<JSONValue, CodexConnection.RPCError>)>()
    }

    static let commandItem: JSONValue = .object([
        "type": .string("commandExecution"), "id": .string("call_1"), "command": .string("/bin/bash -lc 'touch x'"), "cwd": .string("/p"),
    ])

    @Test("An approval carries the item's command and the offered decisions; the decider's answer is sent")
    func approval() async throws {
        let answers = Answers()
        let seen = Mutex<[CodexApprovalRequest]>([])
        let requests = CodexServerRequests(decider: { request in
            seen.withLock { $0.append(request) }
            return .acceptForSession
        }, respond: { id, answer in answers.list.append((id, answer)) })
        let params = try JSONValue(parsing: #"{"threadId":"t","itemId":"call_1","availableDecisions":["accept","acceptForSession",{"acceptWithExecpolicyAmendment":{}},"cancel"]}"#)
        requests.handle(id: .int(0), method: "item/commandExecution/requestApproval", params: params) { $0 == "call_1" ? Self.commandItem : nil }
        let answered = try await answers.list.wait { !$0.isEmpty }
        #expect(answered.first?.id == .int(0))
        #expect(try answered.first?.answer.get() == .object(["decision": .string("acceptForSession")]))
        let request = try #require(seen.withLock { $0.first })
        #expect(request.kind == .command && request.itemId == "call_1")
        #expect(request.command == "/bin/bash -lc 'touch x'" && request.cwd == "/p")
        #expect(request.availableDecisions == ["accept", "acceptForSession", "cancel"])
        #expect(requests.pendingCount == 0)
    }

    @Test("An acceptance the server did not offer becomes accept or decline; refusals are sent as decided")
    func offered() {
        #expect(CodexServerRequests.offered(.acceptForSession, in: ["accept", "cancel"]) == .accept)
        #expect(CodexServerRequests.offered(.acceptForSession, in: ["decline"]) == .decline)
        #expect(CodexServerRequests.offered(.accept, in: ["cancel"]) == .decline)
        #expect(CodexServerRequests.offered(.decline, in: ["accept", "cancel"]) == .decline)
        #expect(CodexServerRequests.offered(.accept, in: []) == .accept)
    }

    @Test("The policy decision: never accepts; on-request and untrusted decline and say so")
    func policy() async {
        let notices = Recorder<String>()
        let request = CodexApprovalRequest(kind: .command, requestId: .int(1), itemId: "c", command: "rm x", cwd: nil,
                                           changes: nil, reason: nil, availableDecisions: [])
        #expect(await CodexServerRequests.policyDecider(approvalPolicy: "never") { notices.append($0) }(request) == .accept)
        #expect(await CodexServerRequests.policyDecider(approvalPolicy: "untrusted") { notices.append($0) }(request) == .decline)
        #expect(notices.items == ["Codex asked to run `rm x`; declined, because approvals do not reach users yet (approvalPolicy 'untrusted')."])
    }

    @Test("An approval becomes a decision request; the decisions map to accept, acceptForSession, decline")
    func askingDecider() async throws {
        let request = CodexApprovalRequest(kind: .command, requestId: .int(4), itemId: "call_9", command: "/bin/bash -lc 'touch x'", cwd: "/p",
                                           changes: nil, reason: nil, availableDecisions: ["accept", "cancel"])
        let shown = CodexServerRequests.decisionRequest(request, process: 2)
        #expect(shown.id == "codex-2-4" && shown.toolName == "Bash" && shown.toolId == "call_9")
        #expect(shown.summary == "/bin/bash -lc 'touch x'" && shown.subject == "/bin/bash -lc 'touch x'")
        #expect(shown.options == ["allow", "deny"], "acceptForSession was not offered")
        #expect(shown.input == .object(["command": .string("/bin/bash -lc 'touch x'"), "cwd": .string("/p")]))
        var patch = request
        patch.kind = .fileChange
        patch.availableDecisions = []
        patch.changes = .array([.object(["path": .string("/p/a.txt"), "kind": .object(["type": .string("add")])])])
        let edit = CodexServerRequests.decisionRequest(patch, process: 1)
        #expect(edit.toolName == "Edit" && edit.summary == "/p/a.txt" && edit.subject == "/p/a.txt")
        #expect(edit.options == ["allow", "allow_session", "deny"])

        for (decision, expected) in [("allow", CodexApprovalDecision.accept), ("allow_session", .acceptForSession), ("deny", .decline)] {
            let channel = AdapterEventChannel()
            let decider = CodexServerRequests.askingDecider(channel: channel, process: 1) { _ in .cancel }
            let answer = Task { await decider(request) }
            var events = channel.events.makeAsyncIterator()
            guard case .decisionRequested(let asked)? = await events.next() else {
                Issue.record("nothing was asked")
                return
            }
            try channel.answer(DecisionAnswer(id: asked.id, decision: decision))
            #expect(await answer.value == expected)
        }
        // A host that answers no decisions: the fallback decides, nothing is asked.
        let silent = AdapterEventChannel()
        silent.hostAnswersDecisions = false
        #expect(await CodexServerRequests.askingDecider(channel: silent, process: 1) { _ in .accept }(request) == .accept)
    }

    @Test("Requests that are no approvals get the well-formed refusal of their method", arguments: [
        ("item/tool/requestUserInput", #"{"answers":{}}"#),
        ("item/tool/call", #"{"contentItems":[{"text":"unsupported","type":"inputText"}],"success":false}"#),
        ("mcpServer/elicitation/request", #"{"action":"decline","content":null}"#),
        ("item/permissions/requestApproval", #"{"permissions":{},"scope":"turn"}"#),
        ("execCommandApproval", #"{"decision":"denied"}"#),
    ])
    func refusals(_ method: String, _ json: String) throws {
        #expect(try CodexServerRequests.refusal(method: method).get() == JSONValue(parsing: json))
    }

    @Test("An unknown request is answered with a JSON-RPC error naming it")
    func unknown() {
        guard case .failure(let error) = CodexServerRequests.refusal(method: "attestation/generate") else {
            Issue.record("expected an error reply")
            return
        }
        #expect(error.code == -32601 && error.message == "Switchboard does not support the request 'attestation/generate'.")
    }

    @Test("serverRequest/resolved cancels a pending decision: the server is not answered")
    func resolved() async throws {
        let answers = Answers()
        let requests = CodexServerRequests(decider: { _ in
            try? await Task.sleep(for: .seconds(60))
            return .accept
        }, respond: { id, answer in answers.list.append((id, answer)) })
        requests.handle(id: .int(4), method: "item/fileChange/requestApproval", params: .object(["itemId": .string("p")])) { _ in nil }
        #expect(requests.pendingCount == 1)
        requests.resolved(.int(4))
        #expect(requests.pendingCount == 0)
        await requests.close()
        #expect(answers.list.items.isEmpty)
    }
}

/// The JSON-RPC connection against a stand-in server (a shell script).
@Suite("Codex connection", .childProcessGate)
struct CodexConnectionTests {
    @Test("Lines are classified by their keys; malformed lines are skipped and counted; a response ends its request")
    func classification() async throws {
        let script = #"""
        echo 'not json at all'
        echo '[1,2]'
        echo '{"method":"configWarning","params":{"summary":"heads up"},"emittedAtMs":1}'
        echo '{"method":"item/tool/requestUserInput","id":0,"params":{}}'
        read -r request
        echo '{"id":1,"result":{"userAgent":"stand-in"}}'
        read -r answer
        echo "$answer" >&2
        read -r never
        """#
        let incoming = Recorder<String>()
        let launch = ProcessLaunch(program: "/bin/sh", arguments: ["-c", script], role: "stand-in")
        let connection = try await CodexConnection.start(launch, options: .init(), handler: .init(
            incoming: { message in
                switch message {
                case .notification(let method, _): incoming.append("notification \(method)")
                case .request(let id, let method, _): incoming.append("request \(id.jsonText) \(method)")
                }
            },
            exited: { _ in }
        ))
        let result = await connection.request("initialize", .object([:]), timeout: .seconds(10))
        #expect(try result.get()["userAgent"] == .string("stand-in"))
        #expect(incoming.items == ["notification configWarning", "request 0 item/tool/requestUserInput"])
        #expect(connection.skippedLines == 2)
        connection.respond(to: .int(0), result: .object(["answers": .object([:])]))
        let exit = await connection.process?.stop(.grace(.seconds(2)))
        #expect(exit?.stderrTail == [#"{"id":0,"result":{"answers":{}}}"#])
        let late = await connection.request("thread/start", .object([:]), timeout: .seconds(1))
        guard case .failure(let error) = late else { Issue.record("a request after the exit must fail"); return }
        #expect(error.message.hasPrefix("codex app-server "), "\(error.message)")
    }
}
