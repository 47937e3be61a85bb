import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// OpenCode's permission requests end to end: the manager, the plugin loaded with dlopen, and
/// the fake `opencode serve` speaking one protocol generation (`1.0`: `permission.updated`
/// and the session-scoped reply route; `1.2`/`1.18`: `permission.asked` and
/// `/permission/:id/reply`).
@Suite("OpenCode permission requests", .serialized, .childProcessGate)
struct OpenCodePermissionTests {
    @Test("Allowed: the request shows the command, the answer goes on the generation's route as once, the tool runs and the turn completes",
          arguments: ["1.0", "1.2", "1.18"])
    func allowed(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        let (before, requests) = try await manager.send(id, "ask bash: touch allowed.txt", on: client)
        let request = try #require(requests.first)
        #expect(request.request.kind == .permission)
        #expect(request.request.toolName == "Bash")
        #expect(request.request.subject == "touch allowed.txt")
        #expect(request.request.summary == "touch allowed.txt")
        // The request names its tool call as the tool_use message does.
        let toolUse = try #require(client.messages.first { $0.type == .toolUse && $0.extra["callId"] == .string("call_1") })
        #expect(request.request.toolId == toolUse.toolId)
        #expect(request.request.options == [Decision.allow, Decision.allowSession, Decision.deny])
        #expect(request.request.input["command"] == .string("touch allowed.txt"))
        #expect(request.request.input["patterns"]?.arrayValue?.isEmpty == false)
        #expect(request.request.id.hasPrefix("per_"))
        // The server waits: the tool has not run, and the request is listed.
        #expect(!fake.has("allowed.txt"))
        let listed = try await fake.get("/permission")
        #expect(listed.arrayValue?.compactMap { $0["id"]?.stringValue } == [request.request.id])

        try await manager.answer(request.requestId, decision: Decision.allow, from: "test")
        try await client.waitForTurnEnd(after: before)
        #expect(fake.has("allowed.txt"))
        #expect(client.assistantText(after: before) == "Done: ran touch allowed.txt")
        let result = try #require(client.toolResults(after: before).first)
        #expect(result.extra["isError"] == nil)
        let resolution = try await client.waitForResolution(of: request.requestId)
        #expect(resolution.decision == Decision.allow)
        #expect(resolution.source == .client("test"))
        let reply = try #require(fake.replies.first)
        if version == "1.0" {
            #expect(reply.path == "/session/\(agentId)/permissions/\(request.request.id)")
            #expect(reply.body == .object(["response": .string("once")]))
        } else {
            #expect(reply.path == "/permission/\(request.request.id)/reply")
            #expect(reply.body == .object(["reply": .string("once")]))
        }
        #expect(fake.replies.count == 1)
        #expect(try await fake.get("/permission") == .array([]))
        await manager.disposeAll()
    }

    @Test("Denied with a message: no file, the tool fails with OpenCode's rejection; the new generation carries the message and goes on",
          arguments: ["1.0", "1.2"])
    func denied(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask bash: touch denied.txt", on: client)
        let request = try #require(requests.first)
        try await manager.answer(request.requestId, decision: Decision.deny, message: "Not that file.", from: "test")
        try await client.waitForTurnEnd(after: before)
        #expect(!fake.has("denied.txt"))
        let result = try #require(client.toolResults(after: before).first)
        #expect(result.extra["isError"] == .bool(true))
        #expect(result.content.contains("rejected permission"), "\(result.content)")
        let reply = try #require(fake.replies.first)
        if version == "1.0" {
            // The old route has no place for the message; the old server stops the loop.
            #expect(reply.body == .object(["response": .string("reject")]))
            #expect(!result.content.contains("Not that file."))
            #expect(client.assistantText(after: before).isEmpty)
        } else {
            #expect(reply.body == .object(["reply": .string("reject"), "message": .string("Not that file.")]))
            #expect(result.content.hasSuffix("with the following feedback: Not that file."), "\(result.content)")
            #expect(client.assistantText(after: before) == "Done: rejected: Not that file.")
        }
        await manager.disposeAll()
    }

    @Test("allow_session is OpenCode's always: the other open ask it covers is withdrawn (the server answered it), and a later identical ask never reaches the manager",
          arguments: ["1.0", "1.2"])
    func allowSession(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        var (before, both) = try await manager.send(id, "ask bash twice: touch twice.txt", awaitingRequests: 2, on: client)
        let (first, second) = (both[0], both[1])
        try await manager.answer(first.requestId, decision: Decision.allowSession, from: "test")
        let withdrawn = try await client.waitForResolution(of: second.requestId)
        #expect(withdrawn.decision == DecisionResolution.cancelled)
        #expect(withdrawn.source == .agent)
        try await client.waitForTurnEnd(after: before)
        // Withdrawn when the server said so, not only when the turn ended.
        let firstResult = try #require(client.frameIndex(after: before) { $0.type == .toolResult })
        #expect(try #require(client.frameIndex(ofResolution: second.requestId)) < firstResult)
        #expect(fake.has("twice.txt"))
        #expect(fake.replies.count == 1)
        #expect(fake.replies.first?.body?[version == "1.0" ? "response" : "reply"] == .string("always"))
        // The second request is closed: an answer now is refused.
        await #expect(throws: SessionError.self) { try await manager.answer(second.requestId, decision: Decision.allow, from: "late") }

        before = client.received.count
        try? FileManager.default.removeItem(atPath: fake.project + "/twice.txt")
        try await manager.send(id, text: "ask bash: touch twice.txt")
        try await client.waitForTurnEnd(after: before)
        #expect(client.requests(after: before).isEmpty)
        #expect(fake.has("twice.txt"))
        #expect(fake.replies.count == 1)
        await manager.disposeAll()
    }

    @Test("A reject in the new generation takes the session's other open requests with it; ours is withdrawn")
    func rejectTakesOthers() async throws {
        let (fake, manager, id, client) = try await askingSession("1.2")
        defer { fake.remove() }
        let (before, both) = try await manager.send(id, "ask bash twice: touch never.txt", awaitingRequests: 2, on: client)
        try await manager.answer(both[0].requestId, decision: Decision.deny, from: "test")
        let withdrawn = try await client.waitForResolution(of: both[1].requestId)
        #expect(withdrawn.source == .agent)
        try await client.waitForTurnEnd(after: before)
        let firstResult = try #require(client.frameIndex(after: before) { $0.type == .toolResult })
        #expect(try #require(client.frameIndex(ofResolution: both[1].requestId)) < firstResult)
        #expect(!fake.has("never.txt"))
        #expect(client.toolResults(after: before).count == 2)
        #expect(client.toolResults(after: before).allSatisfy { $0.extra["isError"] == .bool(true) })
        await manager.disposeAll()
    }

    @Test("An edit asks with the file as subject; allowed, the file is written", arguments: ["1.0", "1.2"])
    func edit(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask edit: notes.md", on: client)
        let request = try #require(requests.first)
        #expect(request.request.toolName == "Edit")
        #expect(request.request.subject?.hasSuffix("/project/notes.md") == true, "\(String(describing: request.request.subject))")
        #expect(request.request.input["diff"]?.stringValue?.contains("+edited by the fake") == true)
        try await manager.answer(request.requestId, decision: Decision.allow, from: "test")
        try await client.waitForTurnEnd(after: before)
        #expect(try String(contentsOfFile: fake.project + "/notes.md", encoding: .utf8) == "edited by the fake\n")
        await manager.disposeAll()
    }

    @Test("A sub-agent's request (in the task tool's child session) reaches the manager and is answered on its own session's route",
          arguments: ["1.0", "1.2"])
    func subAgent(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        let (before, requests) = try await manager.send(id, "ask task: touch sub.txt", on: client)
        let request = try #require(requests.first)
        #expect(request.request.subject == "touch sub.txt")
        try await manager.answer(request.requestId, decision: Decision.allow, from: "test")
        try await client.waitForTurnEnd(after: before)
        #expect(fake.has("sub.txt"))
        let reply = try #require(fake.replies.first)
        if version == "1.0" {
            // The route names the child session, not the parent.
            #expect(reply.path.hasPrefix("/session/ses_"))
            #expect(!reply.path.hasPrefix("/session/\(agentId)/"))
        } else {
            #expect(reply.path == "/permission/\(request.request.id)/reply")
        }
        await manager.disposeAll()
    }

    @Test("Without a permission config OpenCode asks nothing: the tool just runs")
    func nothingAsksByDefault() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let (id, client) = try await startOpenCodeSession(manager, fake)
        try await manager.send(id, text: "ask bash: touch free.txt")
        try await client.waitForTurnEnd(after: 0)
        #expect(client.requests().isEmpty)
        #expect(fake.has("free.txt"))
        await manager.disposeAll()
    }

    @Test("A rule decides without asking anyone; the server gets the rule's answer")
    func ruleDecides() async throws {
        let rules = ApprovalPolicy(rules: [
            .init(agent: "opencode", tool: "Bash", input: "touch ok*", decision: .allow),
            .init(tool: "Bash", input: "touch *", decision: .deny, message: "Only ok files."),
        ])
        let (fake, manager, id, client) = try await askingSession("1.2", configuration: .init(approvals: rules))
        defer { fake.remove() }
        var before = client.received.count
        try await manager.send(id, text: "ask bash: touch ok.txt")
        try await client.waitForTurnEnd(after: before)
        #expect(client.requests(after: before).isEmpty)
        #expect(client.resolutions(after: before).map(\.source) == [.rule(1)])
        #expect(fake.has("ok.txt"))
        before = client.received.count
        try await manager.send(id, text: "ask bash: touch bad.txt")
        try await client.waitForTurnEnd(after: before)
        #expect(client.resolutions(after: before).map(\.source) == [.rule(2)])
        #expect(!fake.has("bad.txt"))
        #expect(fake.replies.map(\.body) == [
            .object(["reply": .string("once")]), .object(["reply": .string("reject"), "message": .string("Only ok files.")]),
        ])
        await manager.disposeAll()
    }
}
