import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The session manager's side of decision requests, with the scripted plugin asking
/// through the real C boundary.
@Suite("Decision requests in the session manager")
struct DecisionManagerTests {
    @Test("Every client sees the request; the first answer wins and reaches the agent once; a later one is refused")
    func firstAnswerWins() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]")
        let (id, clients) = try await bed.open(clients: 2)
        try await bed.manager.send(id, text: "go")
        let seen = try await clients[0].waitForDecisionRequest()
        let alsoSeen = try await clients[1].waitForDecisionRequest()
        #expect(seen == alsoSeen)
        #expect(seen.request.toolName == "Bash" && seen.request.summary == "touch notes.txt" && seen.request.toolId == "t1")
        #expect(seen.request.options == ["allow", "allow_session", "deny"])
        #expect(seen.requestId.hasPrefix("req-") && seen.sessionId == id)
        #expect(await bed.manager.info(id)?.pendingDecisions == 1)
        #expect(await bed.manager.pendingDecisions().map(\.requestId) == [seen.requestId])

        let resolution = try await bed.manager.answer(seen.requestId, decision: "allow", from: "client-1")
        #expect(resolution.decision == "allow" && resolution.source == .client("client-1"))
        for client in clients {
            let resolved = try await client.waitForResolution(of: seen.requestId)
            #expect(resolved.decision == "allow" && resolved.source.by == "client" && resolved.source.decider == "client-1")
            try await client.waitForStatus(.idle)
        }
        // The agent got exactly one answer and went on.
        let results = clients[0].messages.filter { $0.type == .toolResult }
        #expect(results.map(\.content) == ["allow"])
        #expect(clients[0].messages.contains { $0.content == "after the decision" })
        await #expect(throws: SessionError.self) {
            try await bed.manager.answer(seen.requestId, decision: "deny", from: "client-2")
        }
        do {
            try await bed.manager.answer(seen.requestId, decision: "deny", from: "client-2")
        } catch let error as SessionError {
            #expect(error.code == .alreadyResolved)
            #expect(error.message.contains("allow by client-1"), "\(error.message)")
        }
        #expect(await bed.manager.info(id)?.pendingDecisions == 0)
        let record = try #require(await bed.store.decision(seen.requestId))
        #expect(record.state == .resolved && record.decision == "allow" && record.decidedBy == "client" && record.decider == "client-1")
        #expect(record.toolName == "Bash" && record.summary == "touch notes.txt" && record.sessionId == id && record.resolvedAt != nil)
        await bed.manager.disposeAll()
    }

    @Test("A deny carries its message to the agent")
    func denyWithMessage() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        try await bed.manager.answer(request.requestId, decision: "deny", message: "Not in this repo.", from: "client-1")
        try await clients[0].waitForStatus(.idle)
        let result = try #require(clients[0].messages.first { $0.type == .toolResult })
        #expect(result.content == "deny: Not in this repo." && result.extra["isError"] == .bool(true))
        #expect(clients[0].resolutions.first?.message == "Not in this repo.")
        await bed.manager.disposeAll()
    }

    @Test("A decision that is not among the options is refused and changes nothing")
    func invalidDecision() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn(options: ["allow", "deny"]))]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        for bad in ["allow_session", "ALLOW", "", "yes"] {
            do {
                try await bed.manager.answer(request.requestId, decision: bad, from: "client-1")
                Issue.record("'\(bad)' was accepted")
            } catch let error as SessionError {
                #expect(error.code == .invalidDecision)
                #expect(error.message.contains("is not one of its options (allow, deny)"), "\(error.message)")
            }
        }
        do {
            try await bed.manager.answer(request.requestId, decision: nil, from: "client-1")
            Issue.record("an answer without a decision was accepted")
        } catch let error as SessionError {
            #expect(error.code == .invalidDecision)
        }
        #expect(await bed.manager.pendingDecision(request.requestId) != nil)
        #expect(clients[0].resolutions.isEmpty)
        do {
            try await bed.manager.answer("req-0-unknown", decision: "allow", from: "client-1")
            Issue.record("an unknown request was answered")
        } catch let error as SessionError {
            #expect(error.code == .requestNotFound && error.message == "No decision request has the id req-0-unknown.")
        }
        try await bed.manager.answer(request.requestId, decision: "allow", from: "client-1")
        try await clients[0].waitForStatus(.idle)
        await bed.manager.disposeAll()
    }

    @Test("50 clients answering at once: exactly one wins, the agent gets one answer")
    func concurrentAnswers() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]")
        let (id, clients) = try await bed.open(clients: 50)
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        let manager = bed.manager
        let outcomes = await withTaskGroup(of: String.self) { group in
            for n in 1...50 {
                group.addTask {
                    do {
                        try await manager.answer(request.requestId, decision: n % 2 == 0 ? "allow" : "deny", from: "client-\(n)")
                        return "won"
                    } catch let error as SessionError {
                        return error.code == .alreadyResolved ? "refused" : "other: \(error.message)"
                    } catch {
                        return "other: \(error)"
                    }
                }
            }
            var all: [String] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == "won" }.count == 1)
        #expect(outcomes.filter { $0 == "refused" }.count == 49, "\(outcomes.filter { $0.hasPrefix("other") })")
        for client in clients { try await client.waitForStatus(.idle) }
        for client in clients {
            #expect(client.resolutions.count == 1)
            #expect(client.messages.filter { $0.type == .toolResult }.count == 1)
        }
        await bed.manager.disposeAll()
    }

    @Test("Rules decide before anyone is asked; the audit log names the rule")
    func ruleDecides() async throws {
        let policy = ApprovalPolicy(rules: [
            .init(tool: "Read", decision: .allow),
            .init(agent: "scripted", tool: "Bash", input: "git status*", decision: .allow),
            .init(tool: "Bash", input: "rm -rf *", decision: .deny, message: "Never."),
        ])
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn("git status --short")),\(DecisionTestbed.askingTurn("cd /tmp && rm -rf x")),\(DecisionTestbed.askingTurn("git status; reboot"))]", approvals: policy)
        let (id, clients) = try await bed.open()
        let client = clients[0]
        try await bed.manager.send(id, text: "one")
        try await client.waitForStatus(.idle)
        #expect(client.decisionRequests.isEmpty)
        let allowed = try #require(client.resolutions.first)
        #expect(allowed.decision == "allow" && allowed.source == .rule(2) && allowed.summary == "git status --short")
        #expect(client.messages.filter { $0.type == .toolResult }.map(\.content) == ["allow"])

        var mark = client.received.count
        try await bed.manager.send(id, text: "two")
        try await client.waitForStatus(.idle, after: mark)
        let denied = try #require(client.resolutions.last)
        #expect(denied.decision == "deny" && denied.source == .rule(3) && denied.message == "Never.")
        #expect(client.messages.filter { $0.type == .toolResult }.last?.content == "deny: Never.")

        // A chained command is never allowed by a pattern that does not spell the chain: asked.
        mark = client.received.count
        try await bed.manager.send(id, text: "three")
        let asked = try await client.waitForDecisionRequest(after: mark)
        #expect(asked.request.summary == "git status; reboot")
        try await bed.manager.answer(asked.requestId, decision: "deny", from: "client-1")
        try await client.waitForStatus(.idle, after: mark)

        let log = await bed.store.decisions(DecisionQuery(sessionId: id))
        #expect(log.count == 3)
        #expect(log.compactMap(\.decider).sorted() == ["client-1", "rule #2", "rule #3"])
        #expect(log.allSatisfy { $0.state == .resolved })
        await bed.manager.disposeAll()
    }

    @Test("The default decides when it is not ask")
    func defaultPolicy() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]", approvals: ApprovalPolicy(defaultDecision: .deny))
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        try await clients[0].waitForStatus(.idle)
        let resolution = try #require(clients[0].resolutions.first)
        #expect(resolution.source == .defaultPolicy && resolution.decision == "deny")
        #expect(clients[0].decisionRequests.isEmpty)
        await bed.manager.disposeAll()
    }

    @Test("An interrupt resolves what is pending; the turn ends interrupted and the next one works")
    func interruptWhilePending() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn()),{\"echo\":true}]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        await bed.manager.interrupt(id)
        let resolved = try await clients[0].waitForResolution(of: request.requestId)
        #expect(resolved.source == .interrupt && resolved.decision == DecisionResolution.cancelled)
        try await clients[0].waitForStatus(.interrupted)
        #expect(clients[0].resolutions.count == 1)
        #expect(!clients[0].messages.contains { $0.content == "after the decision" })
        do {
            try await bed.manager.answer(request.requestId, decision: "allow", from: "client-1")
            Issue.record("an interrupted request was answered")
        } catch let error as SessionError {
            #expect(error.code == .alreadyResolved && error.message.contains("cancelled by interrupt"), "\(error.message)")
        }
        let mark = clients[0].received.count
        try await bed.manager.send(id, text: "next")
        try await clients[0].waitForStatus(.idle, after: mark)
        #expect(await bed.store.decision(request.requestId)?.decidedBy == "interrupt")
        await bed.manager.disposeAll()
    }

    @Test("Nobody answers: the timeout denies, and says so")
    func timeout() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]", approvals: ApprovalPolicy(timeout: .milliseconds(300)))
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        #expect(request.expiresAt - request.requestedAt == 300)
        let resolved = try await clients[0].waitForResolution(of: request.requestId)
        #expect(resolved.source == .timeout && resolved.decision == "deny")
        #expect(resolved.message?.hasPrefix("Nobody decided within") == true)
        try await clients[0].waitForStatus(.idle)
        #expect(clients[0].messages.first { $0.type == .toolResult }?.content.hasPrefix("deny: Nobody decided within") == true)
        await bed.manager.disposeAll()
    }

    @Test("A client that connects while a request is pending gets it in its replay")
    func replayWhilePending() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        let late = ClientRecorder()
        _ = await bed.manager.connect(id, client: late.client, resumeFrom: 0)
        #expect(try await late.waitForDecisionRequest() == request)
        try await bed.manager.answer(request.requestId, decision: "allow", from: "late")
        _ = try await late.waitForResolution(of: request.requestId)
        await bed.manager.disposeAll()
    }

    @Test("Dispose closes what is pending; the audit log records it expired")
    func disposeWhilePending() async throws {
        let bed = try DecisionTestbed(turns: "[\(DecisionTestbed.askingTurn())]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let request = try await clients[0].waitForDecisionRequest()
        await bed.manager.dispose(id)
        let resolved = try await clients[0].waitForResolution(of: request.requestId)
        #expect(resolved.source == .dispose)
        let record = try #require(await bed.store.decision(request.requestId))
        #expect(record.state == .expired && record.decidedBy == "dispose")
        #expect(await bed.manager.pendingDecisions().isEmpty)
    }

    @Test("Requests a previous run left pending are expired at start")
    func staleRequestsExpire() async throws {
        let store = InMemorySessionStore()
        try await store.recordDecision(DecisionRecord(
            id: "req-1-stale", sessionId: "s", agentType: "scripted", kind: .permission, toolName: "Bash",
            summary: "touch x", options: ["allow", "deny"], requestedAt: 1
        ))
        let bed = try DecisionTestbed(turns: "[]", store: store)
        #expect(try await bed.manager.expireStaleDecisions() == 1)
        let record = try #require(await store.decision("req-1-stale"))
        #expect(record.state == .expired && record.decidedBy == "restart" && record.decision == "cancelled")
        #expect(try await bed.manager.expireStaleDecisions() == 0)
    }

    @Test("Questions: answers reach the agent; unknown questions and empty answers are refused")
    func questions() async throws {
        let turn = """
        {"messages":[{"ask":{"kind":"question","toolName":"AskUserQuestion","summary":"Which color?",
          "questions":[{"question":"Which color?","header":"Color","options":[{"label":"Red"},{"label":"Blue"}]}]}}]}
        """
        let bed = try DecisionTestbed(turns: "[\(turn),\(turn)]")
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "ask me")
        let request = try await clients[0].waitForDecisionRequest()
        #expect(request.request.kind == .question && request.request.options == ["answer", "deny"])
        #expect(request.request.questions.first?.options.map(\.label) == ["Red", "Blue"])
        for (answers, fragment) in [([String: String](), "has no 'answers'"), (["Which size?": "L"], "asked no question"), (["Which color?": ""], "must be 1 to 10000 bytes")] {
            do {
                try await bed.manager.answer(request.requestId, decision: nil, answers: answers, from: "c")
                Issue.record("\(answers) was accepted")
            } catch let error as SessionError {
                #expect(error.code == .invalidDecision && error.message.contains(fragment), "\(error.message)")
            }
        }
        try await bed.manager.answer(request.requestId, decision: nil, answers: ["Which color?": "Blue"], from: "c")
        try await clients[0].waitForStatus(.idle)
        #expect(clients[0].messages.first { $0.type == .toolResult }?.content == #"{"Which color?":"Blue"}"#)
        #expect(clients[0].resolutions.first?.answers == ["Which color?": "Blue"])

        let mark = clients[0].received.count
        try await bed.manager.send(id, text: "again")
        let second = try await clients[0].waitForDecisionRequest(after: mark)
        try await bed.manager.answer(second.requestId, decision: "deny", from: "c")
        try await clients[0].waitForStatus(.idle, after: mark)
        #expect(clients[0].messages.filter { $0.type == .toolResult }.last?.content == "deny")
        await bed.manager.disposeAll()
    }
}

extension DecisionManagerTests {
    @Test("A plugin that asks again with an id it used gets an error frame; nothing else changes")
    func repeatedPluginID() async throws {
        let ask = #"{"ask":{"id":"dup","toolName":"Bash","input":{"command":"touch a"}}}"#
        let bed = try DecisionTestbed(turns: #"[{"messages":[\#(ask),\#(ask)]}]"#)
        let (id, clients) = try await bed.open()
        try await bed.manager.send(id, text: "go")
        let first = try await clients[0].waitForDecisionRequest()
        try await bed.manager.answer(first.requestId, decision: "allow", from: "c")
        try await clients[0].waitForMessage { $0.type == .error && $0.content.contains("asked again with request id 'dup'") }
        #expect(clients[0].decisionRequests.count == 1)
        #expect(await bed.manager.pendingDecisions().isEmpty)
        await bed.manager.interrupt(id)
        try await clients[0].waitForStatus(.interrupted)
        await bed.manager.disposeAll()
    }
}
