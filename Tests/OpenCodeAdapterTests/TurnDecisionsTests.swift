@testable import OpenCodeAdapter
import SwitchboardAdapterAPI
import SwitchboardTesting
import Synchronization
import Testing

/// The turn's asks on their own: a channel whose events are recorded, and a delivery that
/// records what it would send.
@Suite("OpenCode turn decisions")
struct TurnDecisionsTests {
    final class Harness: Sendable {
        let channel = AdapterEventChannel()
        let events = Recorder<AdapterEvent>()
        let delivered = Recorder<DecisionAnswer>()
        let failure: String?
        let decisions: TurnDecisions

        init(failure: String? = nil) {
            self.failure = failure
            let (delivered, failure) = (delivered, failure)
            decisions = TurnDecisions(channel: channel) { _, answer in
                delivered.append(answer)
                return failure
            }
            channel.deliverDirectly { [events] in events.append($0) }
        }

        func asked(_ id: String, toolName: String = "Bash") -> TurnEventMapper.DecisionEvent {
            .asked(ServerDecision(request: DecisionRequest(id: id, toolName: toolName, summary: "touch x", subject: "touch x"), route: .permission))
        }

        /// Waits until `id` is open on the channel.
        func waitForOpen(_ id: String) async throws {
            try await events.wait(within: .seconds(5)) { $0.contains { if case .decisionRequested(let r) = $0 { r.id == id } else { false } } }
        }

        func withdrawals() -> [String: DecisionWithdrawal] {
            var result: [String: DecisionWithdrawal] = [:]
            for case .decisionWithdrawn(let id, let reason) in events.items { result[id] = reason }
            return result
        }
    }

    @Test("An answer is delivered once; a repeated event for the same id asks nothing more")
    func answerDelivered() async throws {
        let h = Harness()
        h.decisions.handle(h.asked("per_1"))
        try await h.waitForOpen("per_1")
        h.decisions.handle(h.asked("per_1"))
        try h.channel.answer(DecisionAnswer(id: "per_1", decision: Decision.allow))
        try await h.delivered.wait(within: .seconds(5)) { $0.count == 1 }
        await h.decisions.finish()
        #expect(h.delivered.items.map(\.decision) == [Decision.allow])
        #expect(h.events.items.filter { if case .decisionRequested = $0 { true } else { false } }.count == 1)
        #expect(h.withdrawals().isEmpty)
    }

    @Test("A request the server settled is withdrawn with reason agent and nothing is delivered; settling an unknown id does nothing")
    func settledWithdraws() async throws {
        let h = Harness()
        h.decisions.handle(h.asked("per_1"))
        try await h.waitForOpen("per_1")
        h.decisions.handle(.settled(id: "per_1"))
        h.decisions.handle(.settled(id: "per_unknown"))
        await h.decisions.finish()
        #expect(h.withdrawals() == ["per_1": .agent])
        #expect(h.delivered.items.isEmpty)
        #expect(h.channel.openDecisionIDs.isEmpty)
    }

    @Test("finish withdraws what still waits (turn_end) and returns only when every task has; later events are ignored")
    func finishWithdraws() async throws {
        let h = Harness()
        h.decisions.handle(h.asked("per_1"))
        h.decisions.handle(h.asked("per_2"))
        try await h.waitForOpen("per_2")
        try await h.waitForOpen("per_1")
        #expect(h.decisions.isWaitingForPerson)
        await h.decisions.finish()
        #expect(h.withdrawals() == ["per_1": .turnEnded, "per_2": .turnEnded])
        #expect(!h.decisions.isWaitingForPerson)
        h.decisions.handle(h.asked("per_3"))
        await h.decisions.finish()
        #expect(!h.events.items.contains { if case .decisionRequested(let r) = $0 { r.id == "per_3" } else { false } })
    }

    @Test("A delivery that fails becomes an error message; the time waiting for the answer is counted")
    func failedDelivery() async throws {
        let h = Harness(failure: "OpenCode no longer waits for permission request per_1")
        h.decisions.handle(h.asked("per_1"))
        try await h.waitForOpen("per_1")
        try await Task.sleep(for: .milliseconds(50))
        try h.channel.answer(DecisionAnswer(id: "per_1", decision: Decision.allow))
        try await h.events.wait(within: .seconds(5)) { $0.contains { if case .message(let m) = $0 { m.type == .error } else { false } } }
        await h.decisions.finish()
        #expect(h.decisions.timeWaitingForPerson >= .milliseconds(50))
        let error = h.events.items.compactMap { if case .message(let m) = $0 { m } else { nil } }.first
        #expect(error?.content == "OpenCode no longer waits for permission request per_1")
    }

    @Test("In a host that does not answer decisions (it predates them), a request is refused on the server at once, with an error message")
    func hostThatDoesNotAnswer() async throws {
        let h = Harness()
        h.channel.hostAnswersDecisions = false
        h.decisions.handle(h.asked("per_1"))
        try await h.delivered.wait(within: .seconds(5)) { $0.count == 1 }
        await h.decisions.finish()
        #expect(h.delivered.items.first?.decision == Decision.deny)
        #expect(!h.events.items.contains { if case .decisionRequested = $0 { true } else { false } })
        let error = h.events.items.compactMap { if case .message(let m) = $0 { m } else { nil } }.first
        #expect(error?.content.contains("does not relay decision requests") == true)
        #expect(error?.content.contains("per_1 (Bash: touch x)") == true)
    }

    @Test("A request the host would refuse (an id over 128 bytes) is refused on the server at once, with an error message")
    func unusableRequest() async throws {
        let h = Harness()
        let id = "per_" + String(repeating: "x", count: 130)
        h.decisions.handle(h.asked(id))
        try await h.delivered.wait(within: .seconds(5)) { $0.count == 1 }
        await h.decisions.finish()
        #expect(h.delivered.items.first?.decision == Decision.deny)
        #expect(h.delivered.items.first?.message?.contains("could not show") == true)
        #expect(!h.events.items.contains { if case .decisionRequested = $0 { true } else { false } })
        let error = h.events.items.compactMap { if case .message(let m) = $0 { m } else { nil } }.first
        #expect(error?.content.contains("cannot show") == true)
    }
}
