import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The OpenCode plugin end to end: the session manager, the plugin loaded with dlopen, and
/// the fake `opencode serve` started by the plugin's own lifecycle code.
@Suite("OpenCode adapter", .serialized, .childProcessGate)
struct OpenCodeAdapterTests {
    /// Starts a host session and connects a recording client.
    func startSession(_ manager: SessionManager, _ fake: FakeOpenCodeInstall, workspace: String = "@host",
                      agentSessionId: String? = nil, model: String? = nil, sessionId: String? = nil) async throws -> (String, ClientRecorder) {
        try await startOpenCodeSession(manager, fake, workspace: workspace, agentSessionId: agentSessionId, model: model, sessionId: sessionId)
    }

    func textTurn(protocolVersion: String) async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(protocolVersion: protocolVersion))
        let (id, client) = try await startSession(manager, fake)
        try await client.waitForMessage { $0.type == .system && $0.content.hasPrefix("Session: ") }
        let notice = try #require(client.messages.first { $0.content.hasPrefix("Session: ") })
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        #expect(agentId.hasPrefix("ses_"))
        #expect(notice.content == "Session: \(agentId.prefix(8))...")
        let before = client.received.count
        try await manager.send(id, text: "hello there")
        try await client.waitForTurnEnd(after: before)
        let turn = client.messages.dropFirst(before)
        #expect(turn.filter { $0.type == .assistant }.map(\.content).joined() == "Echo: hello there")
        #expect(turn.filter { $0.type == .assistant }.allSatisfy { $0.messageId?.hasPrefix("msg_") == true })
        // The premature idle right after the prompt did not end the turn: done follows the whole reply.
        let lastAssistant = try #require(turn.lastIndex { $0.type == .assistant })
        let done = try #require(turn.firstIndex { $0.type == .done })
        #expect(done > lastAssistant)
        try await client.waitForStatus(.idle, after: before)
        #expect(fake.requests.filter { $0 == "POST /session" }.count == 1)
        let body = try #require(fake.promptBodies.first)
        #expect(body["messageID"]?.stringValue?.hasPrefix("msg_") == true)
        #expect(body["parts"] == .array([.object(["type": .string("text"), "text": .string("hello there")])]))
        #expect(body["model"] == nil)
        await manager.disposeAll()
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("A text turn with OpenCode ≥ 1.2 events (message.part.delta)")
    func textTurnCurrentProtocol() async throws { try await textTurn(protocolVersion: "1.2") }

    @Test("A text turn with OpenCode < 1.2 events (message.part.updated with delta)")
    func textTurnLegacyProtocol() async throws { try await textTurn(protocolVersion: "1.1") }

    @Test("A tool turn: one tool_use per part, a tool_result when completed, an error-flagged one when failed", arguments: ["1.2", "1.1"])
    func toolTurn(protocolVersion: String) async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(protocolVersion: protocolVersion))
        let (id, client) = try await startSession(manager, fake)
        var before = client.received.count
        try await manager.send(id, text: "run a tool")
        try await client.waitForTurnEnd(after: before)
        var turn = Array(client.messages.dropFirst(before))
        let uses = turn.filter { $0.type == .toolUse }
        #expect(uses.count == 1)
        #expect(uses.first?.toolName == "bash")
        #expect(uses.first?.content == #"{"command":"ls"}"#)
        #expect(uses.first?.extra["title"] == .string("List files"))
        let results = turn.filter { $0.type == .toolResult }
        #expect(results.count == 1)
        #expect(results.first?.content == "README.md\nSources")
        #expect(results.first?.toolId == uses.first?.toolId)
        #expect(results.first?.extra["isError"] == nil)
        #expect(client.assistantText.hasSuffix("Echo: run a tool"))

        before = client.received.count
        try await manager.send(id, text: "toolfail please")
        try await client.waitForTurnEnd(after: before)
        turn = Array(client.messages.dropFirst(before))
        let failed = try #require(turn.first { $0.type == .toolResult })
        #expect(failed.content == "ls: permission denied")
        #expect(failed.extra["isError"] == .bool(true))
        await manager.disposeAll()
    }

    @Test("Resume by agent session id after the manager restarts; no new session is created")
    func resumeAfterRestart() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let store = InMemorySessionStore()
        let first = try openCodeManager(fake.settings(), store: store)
        let (id, client) = try await startSession(first, fake)
        try await first.send(id, text: "first turn")
        try await client.waitForTurnEnd(after: 0)
        let agentId = try #require(await first.info(id)?.agentSessionId)
        await first.disposeAll()
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)

        let second = try openCodeManager(fake.settings(), store: store)
        let (same, resumed) = try await startSession(second, fake, sessionId: id)
        #expect(same == id)
        #expect(await second.info(id)?.agentSessionId == agentId)
        // The restored session replays its history first (from the event log), then this turn.
        try await resumed.waitForMessage { $0.content.hasPrefix("Connected to session") }
        #expect(resumed.assistantText == "Echo: first turn")
        let mark = resumed.received.count
        try await second.send(id, text: "second turn")
        try await resumed.waitForTurnEnd(after: mark)
        #expect(resumed.messages.dropFirst(mark).filter { $0.type == .assistant }.map(\.content).joined() == "Echo: second turn")
        #expect(fake.requests.contains("GET /session/\(agentId)"))
        #expect(fake.requests.filter { $0 == "POST /session" }.count == 1)
        #expect(fake.requests.contains("POST /session/\(agentId)/prompt_async"))
        await second.disposeAll()
    }

    @Test("Resuming an id the server does not know fails clearly and makes no POST /session")
    func resumeUnknown() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let error = await #expect(throws: AdapterError.self) {
            _ = try await startSession(manager, fake, agentSessionId: "ses_gone12345")
        }
        #expect(error?.message.contains("OpenCode session 'ses_gone12345' does not exist") == true)
        #expect(fake.requests.contains("GET /session/ses_gone12345"))
        #expect(!fake.requests.contains("POST /session"))
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("provider/model is sent as {providerID, modelID}; a model without a slash sends none; changes apply to the next prompt")
    func modelParsing() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let (id, client) = try await startSession(manager, fake, model: "opencode/gpt-5.1-codex")
        try await manager.send(id, text: "one")
        let done = try await client.waitForTurnEnd(after: 0)
        #expect(done.extra["model"] == .string("opencode/gpt-5.1-codex"))
        try await manager.setModel(id, model: "gpt")
        var before = client.received.count
        try await manager.send(id, text: "two")
        try await client.waitForTurnEnd(after: before)
        try await manager.setModel(id, model: "anthropic/claude-sonnet-4/extended")
        before = client.received.count
        try await manager.send(id, text: "three")
        try await client.waitForTurnEnd(after: before)
        let bodies = fake.promptBodies
        #expect(bodies.count == 3)
        #expect(bodies.first?["model"] == .object(["providerID": .string("opencode"), "modelID": .string("gpt-5.1-codex")]))
        #expect(bodies.dropFirst().first?["model"] == nil)
        #expect(bodies.last?["model"] == .object(["providerID": .string("anthropic"), "modelID": .string("claude-sonnet-4/extended")]))
        await manager.disposeAll()
    }

    @Test("Basic auth: credentials from the settings reach the server and every request; a server that wants them refuses a client without")
    func auth() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(["username": .string("alice"), "password": .string("s3cret")]))
        let (id, client) = try await startSession(manager, fake)
        try await manager.send(id, text: "authorised")
        try await client.waitForTurnEnd(after: 0)
        #expect(client.assistantText == "Echo: authorised")
        await manager.disposeAll()

        // The server demands a password (from its environment) that the settings do not give.
        let refused = try openCodeManager(fake.settings(environment: ["OPENCODE_SERVER_PASSWORD": "other"]))
        let error = await #expect(throws: AdapterError.self) { _ = try await startSession(refused, fake) }
        #expect(error?.message.contains("refused the credentials (401") == true)
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("Interrupt calls abort, closes the turn and reports Interrupted; the next turn works")
    func interrupt() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let (id, client) = try await startSession(manager, fake)
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        var before = client.received.count
        try await manager.send(id, text: "please hang")
        try await client.waitFor(.assistant, after: before)
        await manager.interrupt(id)
        try await client.waitForMessage { $0.type == .system && $0.content == "Interrupted" }
        try await client.waitForStatus(.interrupted, after: before)
        #expect(fake.requests.contains("POST /session/\(agentId)/abort"))
        #expect(!client.messages.dropFirst(before).contains { $0.type == .done || $0.type == .error })
        before = client.received.count
        try await manager.send(id, text: "after the interrupt")
        try await client.waitForTurnEnd(after: before)
        #expect(client.messages.dropFirst(before).filter { $0.type == .assistant }.map(\.content).joined() == "Echo: after the interrupt")
        await manager.disposeAll()
    }

    @Test("A server that crashes mid-turn ends the turn in an error; the next turn restarts it")
    func crashAndRecovery() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let (id, client) = try await startSession(manager, fake)
        var before = client.received.count
        try await manager.send(id, text: "crash now")
        let error = try await client.waitFor(.error, after: before)
        #expect(error.content.contains("exited with code 70"), "\(error.content)")
        try await client.waitForStatus(.error, after: before)
        before = client.received.count
        try await manager.send(id, text: "recovered")
        try await client.waitForTurnEnd(after: before)
        #expect(client.messages.dropFirst(before).filter { $0.type == .assistant }.map(\.content).joined() == "Echo: recovered")
        #expect(FakeOpenCodeInstall.runningServers.count == 1)
        await manager.disposeAll()
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("A turn that exceeds the turn timeout ends in an error; the next turn works")
    func turnTimeout() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(["turnTimeoutSeconds": .number("1")]))
        let (id, client) = try await startSession(manager, fake)
        var before = client.received.count
        try await manager.send(id, text: "hang forever")
        let error = try await client.waitFor(.error, after: before)
        #expect(error.content.contains("did not finish within"), "\(error.content)")
        try await client.waitForStatus(.error, after: before)
        before = client.received.count
        try await manager.send(id, text: "quick one")
        try await client.waitForTurnEnd(after: before)
        await manager.disposeAll()
    }

    @Test("session.error becomes an error message and the turn ends in status error")
    func sessionError() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings())
        let (id, client) = try await startSession(manager, fake)
        let before = client.received.count
        try await manager.send(id, text: "fail this")
        let error = try await client.waitFor(.error, after: before)
        #expect(error.content == "OpenCode: simulated provider failure (APIError)")
        try await client.waitForStatus(.error, after: before)
        await manager.disposeAll()
    }

    @Test("Sessions of one project share one server; concurrent starts wait for one start; the last dispose stops it")
    func sharedServer() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(environment: ["FAKE_OPENCODE_START_DELAY_MS": "400"]))
        async let a = startSession(manager, fake)
        async let b = startSession(manager, fake)
        let ((first, _), (second, client)) = try await (a, b)
        #expect(FakeOpenCodeInstall.runningServers.count == 1)
        #expect(fake.requests.filter { $0 == "POST /session" }.count == 2)
        await manager.dispose(first)
        #expect(FakeOpenCodeInstall.runningServers.count == 1)
        try await manager.send(second, text: "still here")
        try await client.waitForTurnEnd(after: 0)
        await manager.dispose(second)
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("A server that is not ready in time fails the start with the tail of its log")
    func readyTimeout() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let slow = try openCodeManager(fake.settings(["readyTimeoutSeconds": .number("1")], environment: ["FAKE_OPENCODE_START_DELAY_MS": "30000"]))
        let error = await #expect(throws: AdapterError.self) { _ = try await startSession(slow, fake) }
        #expect(error?.message.contains("did not answer GET /session within") == true, "\(String(describing: error))")
        #expect(error?.message.contains("fake opencode starting") == true)
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)

        let broken = try openCodeManager(fake.settings(environment: ["FAKE_OPENCODE_FAIL_START": "address already in use"]))
        let failure = await #expect(throws: AdapterError.self) { _ = try await startSession(broken, fake) }
        #expect(failure?.message.contains("exited with code 1 before it was ready") == true, "\(String(describing: failure))")
        #expect(failure?.message.contains("Error: address already in use") == true)
    }

    @Test("Container mode runs the server with docker exec and reaches it on the container's address")
    func containerMode() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        let manager = try openCodeManager(fake.settings(["password": .string("pw")]))
        let (id, client) = try await startSession(manager, fake, workspace: "box")
        try await manager.send(id, text: "inside the box")
        try await client.waitForTurnEnd(after: 0)
        #expect(client.assistantText == "Echo: inside the box")
        let log = fake.dockerLog
        #expect(log.contains { $0.hasPrefix("inspect -f") && $0.hasSuffix("workspace-box") })
        #expect(log.contains { $0.hasPrefix("exec -w \(fake.project) -e OPENCODE_SERVER_PASSWORD workspace-box sh -c") && $0.hasSuffix(" 127.0.0.1") }, "\(log)")
        await manager.disposeAll()
        #expect(fake.dockerLog.contains { $0.hasPrefix("exec workspace-box kill -TERM ") })
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("The OpenCode plugin passes the conformance suite")
    func conformance() async throws {
        let fake = try FakeOpenCodeInstall()
        defer { fake.remove() }
        // A session the fake knows from the start, for the resume check.
        try "ses_conformance".write(toFile: fake.data + "/sessions.txt", atomically: true, encoding: .utf8)
        // The project asks before bash runs, so the asking turn asks.
        try fake.askBeforeTools()
        var inputs = ConformanceInputs()
        inputs.settings = fake.settings()
        inputs.startOptions = StartOptions(workspaceName: "conformance", projectPath: fake.project, isHost: true)
        inputs.longTurn = ConformanceTurn(prompt: "hang until interrupted")
        inputs.failingTurn = ConformanceTurn(prompt: "fail this turn")
        inputs.askingTurn = ConformanceTurn(prompt: "ask bash: touch conformance.txt")
        inputs.failingStartSettings = fake.settings(["binary": .string(fake.root.path + "/no-such-opencode")])
        inputs.malformedSettings += [
            .object(["password": .int(3)]), .object(["turnTimeoutSeconds": .string("soon")]),
            .object(["colour": .string("red")]), .object(["env": .array([])]), .object(["command": .string("opencode")]),
        ]
        inputs.models = ("opencode/model-a", "opencode/model-b")
        inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
        inputs.resumeAgentSessionId = "ses_conformance"
        let report = await AdapterConformance(pluginPath: BuildProducts.plugin("OpenCodeAdapter"), inputs: inputs).runTest()
        print(report)
        #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
        // The decisions check answered a request and withdrew one, not only the unknown id.
        #expect(report[.decisions]?.message.contains("was answered 'allow'") == true, "\(String(describing: report[.decisions]))")
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }
}
