import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardTesting
import Testing

/// An adapter that asks the channel during its turns.
private final class AskingAdapter: ChannelBackedAdapter {
    let eventChannel = AdapterEventChannel()
    let turns: TurnRunner
    let answers = Recorder<String>()
    init() { turns = TurnRunner(channel: eventChannel, agentName: "test") }

    func start(_ options: StartOptions) async throws {}
    func sendMessage(_ text: String) async throws {
        try turns.begin { [self] in
            let answer = await eventChannel.ask(DecisionRequest(id: text, toolName: "Bash", summary: "touch \(text)"))
            answers.append(answer?.decision ?? "withdrawn")
            return .done()
        }
    }
    func setModel(_ model: String) async throws {}
    func interrupt() async throws { await turns.interrupt() }
    func dispose() async { await turns.dispose() }
}

@Suite("Decision requests in the toolbox")
struct DecisionChannelTests {
    static func asked(_ log: AdapterEventLog) -> [DecisionRequest] {
        log.events.compactMap { if case .decisionRequested(let r) = $0 { r } else { nil } }
    }

    static func withdrawn(_ log: AdapterEventLog) -> [String] {
        log.events.compactMap { if case .decisionWithdrawn(let id, let reason) = $0 { "\(id):\(reason.rawValue)" } else { nil } }
    }

    @Test("ask reports the request and returns the answer; a second answer is unknownRequest")
    func answered() async throws {
        let adapter = AskingAdapter()
        let log = AdapterEventLog(adapter)
        try await adapter.sendMessage("a1")
        try await log.wait { $0.contains { if case .decisionRequested = $0 { true } else { false } } }
        #expect(Self.asked(log).map(\.id) == ["a1"])
        #expect(adapter.eventChannel.openDecisionIDs == ["a1"])
        try await adapter.answer(DecisionAnswer(id: "a1", decision: "allow"))
        try await log.wait { $0.contains(.status(.idle, agentSessionId: nil)) }
        #expect(adapter.answers.items == ["allow"])
        await #expect(throws: AdapterError.self) { try await adapter.answer(DecisionAnswer(id: "a1", decision: "deny")) }
        do {
            try await adapter.answer(DecisionAnswer(id: "a1", decision: "deny"))
        } catch let error as AdapterError {
            #expect(error.code == .unknownRequest)
        }
        #expect(Self.withdrawn(log).isEmpty)
        await adapter.dispose()
    }

    @Test("An interrupt withdraws the open request before the turn ends interrupted")
    func interruptWithdraws() async throws {
        let adapter = AskingAdapter()
        let log = AdapterEventLog(adapter)
        try await adapter.sendMessage("a2")
        try await log.wait { $0.contains { if case .decisionRequested = $0 { true } else { false } } }
        try await adapter.interrupt()
        try await log.wait { $0.contains(.status(.interrupted, agentSessionId: nil)) }
        #expect(Self.withdrawn(log) == ["a2:interrupt"])
        #expect(adapter.answers.items == ["withdrawn"])
        let withdrawAt = log.events.firstIndex { if case .decisionWithdrawn = $0 { true } else { false } }!
        let endAt = log.events.firstIndex(of: .status(.interrupted, agentSessionId: nil))!
        #expect(withdrawAt < endAt)
        await #expect(throws: AdapterError.self) { try await adapter.answer(DecisionAnswer(id: "a2", decision: "allow")) }
        await adapter.dispose()
    }

    @Test("Dispose withdraws the open request; nothing is emitted after")
    func disposeWithdraws() async throws {
        let adapter = AskingAdapter()
        let log = AdapterEventLog(adapter)
        try await adapter.sendMessage("a3")
        try await log.wait { $0.contains { if case .decisionRequested = $0 { true } else { false } } }
        await adapter.dispose()
        try await log.waitUntilFinished()
        #expect(Self.withdrawn(log) == ["a3:dispose"])
        #expect(adapter.answers.items == ["withdrawn"])
    }

    @Test("With a host that answers no decisions, ask returns nil at once and reports nothing")
    func hostWithoutDecisions() async {
        let channel = AdapterEventChannel()
        channel.hostAnswersDecisions = false
        #expect(await channel.ask(DecisionRequest(id: "x", toolName: "T", summary: "s")) == nil)
        #expect(channel.openDecisionIDs.isEmpty)
        channel.emit(ChatMessage(type: .system, content: "first event"))
        var events = channel.events.makeAsyncIterator()
        guard case .message(let first)? = await events.next() else {
            Issue.record("no event")
            return
        }
        #expect(first.content == "first event")
    }

    @Test("A request withdrawn by the adapter returns nil; asking with an open id returns nil at once")
    func withdrawAndDuplicate() async throws {
        let channel = AdapterEventChannel()
        let first = Task { await channel.ask(DecisionRequest(id: "x", toolName: "T", summary: "s")) }
        var events = channel.events.makeAsyncIterator()
        guard case .decisionRequested(let asked)? = await events.next() else {
            Issue.record("the ask was not reported first")
            return
        }
        #expect(asked.id == "x" && channel.openDecisionIDs == ["x"])
        #expect(await channel.ask(DecisionRequest(id: "x", toolName: "T", summary: "again")) == nil)
        channel.withdraw("x", reason: .agent)
        #expect(await first.value == nil)
        #expect(throws: AdapterError.self) { try channel.answer(DecisionAnswer(id: "x", decision: "allow")) }
    }
}
