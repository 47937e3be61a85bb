import Foundation
@testable import OpenCodeAdapter
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// OpenCode's questions, and the ways a request ends without an answer from the manager:
/// an interrupt, another client of the server answering, a server that stopped waiting.
@Suite("OpenCode questions and withdrawn requests", .serialized, .childProcessGate)
struct OpenCodeQuestionTests {
    @Test("A question: its questions and options reach the manager; the answers go back in order, several labels split", arguments: ["1.2", "1.18"])
    func questionAnswered(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask question", on: client)
        let pending = try #require(requests.first)
        let request = pending.request
        #expect(request.kind == .question)
        #expect(request.toolName == "Question")
        #expect(request.id.hasPrefix("que_"))
        #expect(request.options == [Decision.answer, Decision.deny])
        #expect(request.summary == "Which colour? / Which sizes?")
        #expect(request.questions.map(\.question) == ["Which colour?", "Which sizes?"])
        #expect(request.questions.map(\.multiSelect) == [false, true])
        #expect(request.questions.first?.options.first == .init(label: "red", description: "Warm"))
        #expect(request.questions.first?.header == "Colour")
        #expect(try await fake.get("/question").arrayValue?.count == 1)

        try await manager.answer(pending.requestId, decision: Decision.answer,
                                 answers: ["Which colour?": "red", "Which sizes?": "S, L"], from: "test")
        try await client.waitForTurnEnd(after: before)
        let reply = try #require(fake.replies.first)
        #expect(reply.path == "/question/\(request.id)/reply")
        #expect(reply.body == .object(["answers": .array([.array([.string("red")]), .array([.string("S"), .string("L")])])]))
        let result = try #require(client.toolResults(after: before).first)
        #expect(result.content.contains(#""Which colour?"="red", "Which sizes?"="S, L""#), "\(result.content)")
        #expect(result.extra["isError"] == nil)
        await manager.disposeAll()
    }

    @Test("A question denied is rejected on the server: the tool fails as dismissed and the turn ends", arguments: ["1.2", "1.18"])
    func questionRejected(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask question", on: client)
        let pending = try #require(requests.first)
        try await manager.answer(pending.requestId, decision: Decision.deny, message: "Not now.", from: "test")
        try await client.waitForTurnEnd(after: before)
        #expect(fake.replies.map(\.path) == ["/question/\(pending.request.id)/reject"])
        let result = try #require(client.toolResults(after: before).first)
        #expect(result.extra["isError"] == .bool(true))
        #expect(result.content.contains("dismissed this question"))
        await manager.disposeAll()
    }

    @Test("Interrupt while a permission waits: the request is withdrawn (interrupt), the abort orphans the server's, the next turn works",
          arguments: ["1.0", "1.2", "1.18"])
    func interruptWhilePending(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        let (before, requests) = try await manager.send(id, "ask bash: touch never.txt", on: client)
        let pending = try #require(requests.first)
        await manager.interrupt(id)
        let resolution = try await client.waitForResolution(of: pending.requestId)
        #expect(resolution.source == .interrupt)
        #expect(resolution.decision == DecisionResolution.cancelled)
        try await client.waitForStatus(.interrupted, after: before)
        #expect(fake.requests.contains("POST /session/\(agentId)/abort"))
        #expect(fake.replies.isEmpty)
        #expect(!fake.has("never.txt"))
        // OpenCode tells nobody: up to 1.2 it still lists the orphan, 1.18 dropped it.
        let listed = try await fake.get("/permission").arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(listed == (version == "1.18" ? [] : [pending.request.id]))
        await #expect(throws: SessionError.self) { try await manager.answer(pending.requestId, decision: Decision.allow, from: "late") }
        try await manager.expectEcho(id, "after the interrupt", on: client)
        await manager.disposeAll()
    }

    @Test("Dispose while a question waits: the request is withdrawn (dispose), the session aborted, the server stopped")
    func disposeWhilePending() async throws {
        let (fake, manager, id, client) = try await askingSession("1.2")
        defer { fake.remove() }
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        try await manager.send(id, text: "ask question")
        let pending = try #require(try await client.waitForRequests().first)
        await manager.dispose(id)
        #expect(client.resolutions().map(\.requestId) == [pending.requestId])
        #expect(client.resolutions().first?.source == .dispose)
        #expect(fake.requests.contains("POST /session/\(agentId)/abort"))
        #expect(fake.replies.isEmpty)
        #expect(FakeOpenCodeInstall.runningServers.isEmpty)
    }

    @Test("Another client of the server answers first: the request is withdrawn (agent) and the turn goes on", arguments: ["1.0", "1.2"])
    func answeredElsewhere(version: String) async throws {
        let (fake, manager, id, client) = try await askingSession(version)
        defer { fake.remove() }
        let agentId = try #require(await manager.info(id)?.agentSessionId)
        let (before, requests) = try await manager.send(id, "ask bash: touch elsewhere.txt", on: client)
        let pending = try #require(requests.first)
        let server = try fake.endpoint()
        let reply = version == "1.0"
            ? try await server.request("POST", "/session/\(agentId)/permissions/\(pending.request.id)", body: #"{"response":"once"}"#, timeout: .seconds(5))
            : try await server.request("POST", "/permission/\(pending.request.id)/reply", body: #"{"reply":"once"}"#, timeout: .seconds(5))
        #expect(reply.status == 200)
        let resolution = try await client.waitForResolution(of: pending.requestId)
        #expect(resolution.source == .agent)
        try await client.waitForTurnEnd(after: before)
        // Withdrawn when the server said it was answered, before the tool ran; not at the turn's end.
        let result = try #require(client.frameIndex(after: before) { $0.type == .toolResult })
        #expect(try #require(client.frameIndex(ofResolution: pending.requestId)) < result)
        #expect(fake.has("elsewhere.txt"))
        #expect(fake.replies.count == 1)
        await manager.disposeAll()
    }

    @Test("A question another client answers or dismisses first is withdrawn (agent)", arguments: ["reply", "reject"])
    func questionSettledElsewhere(route: String) async throws {
        let (fake, manager, id, client) = try await askingSession("1.2")
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask question", on: client)
        let pending = try #require(requests.first)
        let body = route == "reply" ? #"{"answers":[["blue"],["M"]]}"# : ""
        let reply = try await fake.endpoint().request("POST", "/question/\(pending.request.id)/\(route)", body: body, timeout: .seconds(5))
        #expect(reply.status == 200)
        #expect(try await client.waitForResolution(of: pending.requestId).source == .agent)
        try await client.waitForTurnEnd(after: before)
        let result = try #require(client.frameIndex(after: before) { $0.type == .toolResult })
        #expect(try #require(client.frameIndex(ofResolution: pending.requestId)) < result)
        #expect(client.toolResults(after: before).first?.extra["isError"] == (route == "reply" ? nil : .bool(true)))
        await manager.disposeAll()
    }

    @Test("An answer the server no longer waits for (1.18 answers 404) is an error message naming the request; the session goes on")
    func answerTooLate() async throws {
        let (fake, manager, id, client) = try await askingSession("1.18")
        defer { fake.remove() }
        let (before, requests) = try await manager.send(id, "ask forget: touch late.txt", on: client)
        let pending = try #require(requests.first)
        try await manager.answer(pending.requestId, decision: Decision.allow, from: "test")
        let error = try await client.waitFor(.error, after: before)
        #expect(error.content.contains("OpenCode no longer waits for permission request \(pending.request.id)"), "\(error.content)")
        #expect(error.content.contains("404: Permission request not found: \(pending.request.id)"), "\(error.content)")
        #expect(!fake.has("late.txt"))
        await manager.interrupt(id)
        try await client.waitForStatus(.interrupted, after: before)
        try await manager.expectEcho(id, "still here", on: client)
        await manager.disposeAll()
    }

    @Test("Time spent waiting for a person does not count toward the turn timeout")
    func waitingIsNotTimedOut() async throws {
        let (fake, manager, id, client) = try await askingSession("1.2", ["turnTimeoutSeconds": .number("1")])
        defer { fake.remove() }
        try await manager.send(id, text: "ask bash: touch slow.txt")
        let pending = try #require(try await client.waitForRequests().first)
        // Longer than the turn timeout: a person is slow, the agent is not stuck.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!client.messages.contains { $0.type == .error })
        try await manager.answer(pending.requestId, decision: Decision.allow, from: "test")
        try await client.waitForTurnEnd(after: 0)
        #expect(fake.has("slow.txt"))
        await manager.disposeAll()
    }
}
