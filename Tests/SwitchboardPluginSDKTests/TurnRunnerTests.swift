import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardTesting
import Testing

/// An adapter whose turns are whatever the test says, on the SDK's turn runner.
private final class RunnerAdapter: ChannelBackedAdapter {
    let eventChannel = AdapterEventChannel()
    let turns: TurnRunner
    init() { turns = TurnRunner(channel: eventChannel, agentName: "test") }

    func start(_ options: StartOptions) async throws {}
    func sendMessage(_ text: String) async throws { try turns.begin { .done() } }
    func setModel(_ model: String) async throws {}
    func interrupt() async throws { await turns.interrupt() }
    func dispose() async { await turns.dispose() }
}

@Suite("Turn runner")
struct TurnRunnerTests {
    @Test("A turn runs on its own task; done emits the message and reports idle; the defaults answer status")
    func done() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        let release = OneShot<Void>()
        try adapter.turns.begin {
            _ = await release.wait()
            return .done(model: "m1")
        }
        #expect(adapter.status == .running)
        release.set(())
        try await log.wait { $0.contains(.status(.idle, agentSessionId: nil)) }
        #expect(log.messages.map(\.type) == [.done])
        #expect(log.messages.first?.extra["model"] == .string("m1"))
        #expect(log.statuses == [.running, .idle])
        #expect(adapter.status == .idle)
    }

    @Test("A second turn while one runs is refused with invalidState and the first is unaffected")
    func oneAtATime() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        let release = OneShot<Void>()
        try adapter.turns.begin {
            _ = await release.wait()
            return .done()
        }
        #expect(throws: AdapterError(.invalidState, "A turn is already running.")) {
            try adapter.turns.begin { .failed("must not run") }
        }
        release.set(())
        try await log.wait { $0.contains(.status(.idle, agentSessionId: nil)) }
        #expect(!log.messages.contains { $0.type == .error })
    }

    @Test("A failed turn emits its error message and reports error; the next turn works")
    func failed() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        try adapter.turns.begin { .failed("it broke") }
        try await log.wait { $0.contains(.status(.error, agentSessionId: nil)) }
        #expect(log.messages == [ChatMessage(type: .error, content: "it broke", timestamp: log.messages.first?.timestamp ?? "")])
        try await adapter.sendMessage("again")
        try await log.wait { $0.contains(.status(.idle, agentSessionId: nil)) }
    }

    @Test("Interrupt cancels the body, waits for it, and reports interrupted; without a turn it does nothing")
    func interruptCancels() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        #expect(await adapter.turns.interrupt() == false)
        let started = OneShot<Void>()
        let sawCancel = AtomicFlag()
        try adapter.turns.begin {
            started.set(())
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            sawCancel.set()
            return .stopped
        }
        _ = await started.wait()
        #expect(await adapter.turns.interrupt() == true)
        #expect(sawCancel.isSet, "interrupt returned only after the body did")
        #expect(adapter.status == .interrupted)
        try await log.wait { $0.contains(.status(.interrupted, agentSessionId: nil)) }
        #expect(log.statuses == [.running, .interrupted])
    }

    @Test("An interrupt hook is asked first; what the body returns after it is reported as interrupted")
    func interruptHook() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        let end = OneShot<TurnOutcome>()
        let hookCalled = AtomicFlag()
        try adapter.turns.begin(onInterrupt: {
            hookCalled.set()
            end.set(.done())  // the agent answers the interrupt by ending its turn
        }) {
            await end.wait() ?? .stopped
        }
        await adapter.turns.interrupt()
        #expect(hookCalled.isSet)
        try await log.wait { $0.contains(.status(.interrupted, agentSessionId: nil)) }
        #expect(log.messages.map(\.type) == [.done], "a turn that completed is still shown")
        #expect(log.statuses == [.running, .interrupted])
    }

    @Test("Dispose stops the turn, runs the clean-up, finishes the stream, and refuses new turns")
    func dispose() async throws {
        let adapter = RunnerAdapter()
        let log = AdapterEventLog(adapter)
        try adapter.turns.begin {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return .failed("cancelled turns report nothing after dispose")
        }
        let cleaned = AtomicFlag()
        await adapter.turns.dispose { cleaned.set() }
        #expect(cleaned.isSet)
        try await log.waitUntilFinished()
        #expect(log.statuses == [.running])
        #expect(!log.messages.contains { $0.type == .error })
        #expect(throws: AdapterError(.invalidState, "The test adapter has been disposed.")) {
            try adapter.turns.begin { .done() }
        }
        await adapter.dispose()  // a second dispose is harmless
    }
}
