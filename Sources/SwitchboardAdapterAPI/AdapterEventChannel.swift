import Synchronization

/// The bookkeeping most adapters need: the event stream, the current status and the agent
/// session id, kept consistent with each other under one lock.
///
/// An adapter holds one channel, returns ``events`` from its `events` property, and reports
/// through ``emit(_:)``, ``setStatus(_:)`` and ``setAgentSessionId(_:)``. After ``finish()``
/// nothing more is delivered, which is how an adapter keeps "dispose is final".
public final class AdapterEventChannel: Sendable {
    private struct State {
        var status: SessionStatus = .idle
        var agentSessionId: String?
        var finished = false
        var sink: (@Sendable (AdapterEvent) -> Void)?
        /// The open decision requests, by the adapter's id: each waits for its answer.
        var asks: [String: OneShot<DecisionAnswer?>] = [:]
        /// Whether anyone answers decision requests (a host that predates them does not).
        var answered = true
    }

    private let outlet = AdapterEventOutlet()
    private let state: Mutex<State>

    /// The stream the adapter hands to its owner.
    public var events: AsyncStream<AdapterEvent> { outlet.events }

    /// The events as a queue read in batches, instead of ``events`` (see
    /// ``AgentAdapter/eventQueue``), with every event emitted before it was asked for.
    public var eventQueue: AdapterEventQueue { outlet.queue }

    /// A channel with status `idle` and, optionally, a known agent session id.
    public init(agentSessionId: String? = nil) {
        state = Mutex(State(agentSessionId: agentSessionId))
    }

    /// The current status.
    public var status: SessionStatus { state.withLock { $0.status } }

    /// The agent session id, once known.
    public var agentSessionId: String? { state.withLock { $0.agentSessionId } }

    /// Whether ``finish()`` was called.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Delivers a chat message.
    public func emit(_ message: ChatMessage) {
        state.withLock { s in
            guard !s.finished else { return }
            send(.message(message), in: s)
        }
    }

    /// Delivers an error that is not the answer to a request.
    public func emitError(_ text: String) {
        state.withLock { s in
            guard !s.finished else { return }
            send(.error(text), in: s)
        }
    }

    /// Changes the status and reports it (also when unchanged, so every turn's end is seen).
    public func setStatus(_ status: SessionStatus) {
        state.withLock { s in
            guard !s.finished else { return }
            s.status = status
            send(.status(status, agentSessionId: s.agentSessionId), in: s)
        }
    }

    /// Records the agent's session id; reports it with the current status when it changed.
    public func setAgentSessionId(_ id: String) {
        state.withLock { s in
            guard !s.finished, s.agentSessionId != id else { return }
            s.agentSessionId = id
            send(.status(s.status, agentSessionId: id), in: s)
        }
    }

    /// Moves from `expected` to `new` atomically; returns false (and changes nothing) when
    /// the status was something else. Adapters use it to refuse a second concurrent turn.
    public func transition(from expected: Set<SessionStatus>, to new: SessionStatus) -> Bool {
        state.withLock { s in
            guard !s.finished, expected.contains(s.status) else { return false }
            s.status = new
            send(.status(new, agentSessionId: s.agentSessionId), in: s)
            return true
        }
    }

    /// Sends events straight to `sink` — synchronously, in order, under the channel's lock —
    /// instead of through ``events``. Call it before the adapter emits anything.
    ///
    /// The plugin SDK does this for a ``ChannelBackedAdapter``, so that every event the
    /// adapter emitted before a request returned reaches the host before that request's
    /// completion. `sink` must not call back into the channel.
    public func deliverDirectly(to sink: @escaping @Sendable (AdapterEvent) -> Void) {
        state.withLock { $0.sink = sink }
    }

    /// The ids of the decision requests waiting for an answer.
    public var openDecisionIDs: [String] { state.withLock { Array($0.asks.keys).sorted() } }

    /// Whether the host answers decision requests: the plugin SDK sets it from the start
    /// options' ``StartOptions/answersDecisions`` (`false` for a host that predates them,
    /// which would reject an `ask` event). While `false`, ``ask(_:)`` returns `nil` at once.
    public var hostAnswersDecisions: Bool {
        get { state.withLock { $0.answered } }
        set { state.withLock { $0.answered = newValue } }
    }

    /// Registers an open request and reports it; false when the id is open or finished.
    func open(_ request: DecisionRequest, _ slot: OneShot<DecisionAnswer?>) -> Bool {
        state.withLock { s in
            guard !s.finished, s.answered, s.asks[request.id] == nil else { return false }
            s.asks[request.id] = slot
            send(.decisionRequested(request), in: s)
            return true
        }
    }

    /// Removes an open request; reports its withdrawal when `reason` is given.
    func takeAsk(_ id: String, reporting reason: DecisionWithdrawal? = nil) -> OneShot<DecisionAnswer?>? {
        state.withLock { s in
            guard let slot = s.asks.removeValue(forKey: id) else { return nil }
            if let reason, !s.finished { send(.decisionWithdrawn(id: id, reason: reason), in: s) }
            return slot
        }
    }

    private func send(_ event: AdapterEvent, in state: State) {
        if let sink = state.sink { sink(event) } else { outlet.yield(event) }
    }

    /// Ends the stream. Nothing is delivered afterwards; open decision requests are
    /// withdrawn (their ``ask(_:)`` returns `nil`) without a further event.
    public func finish() {
        let open = state.withLock { s -> [OneShot<DecisionAnswer?>] in
            guard !s.finished else { return [] }
            s.finished = true
            outlet.finish()
            defer { s.asks = [:] }
            return Array(s.asks.values)
        }
        for slot in open { slot.set(nil) }
    }
}

/// An adapter whose events all come from one ``AdapterEventChannel``.
///
/// Conforming is optional and costs one property. It lets the plugin SDK deliver the
/// channel's events synchronously, which guarantees the host sees them before the
/// completion of the request during which they were emitted (for example, the agent
/// session id reported by `start` is known when `start` returns on the host).
public protocol ChannelBackedAdapter: AgentAdapter {
    /// The channel the adapter emits through.
    var eventChannel: AdapterEventChannel { get }
}

extension ChannelBackedAdapter {
    /// The channel's events as a queue read in batches.
    public var eventQueue: AdapterEventQueue? { eventChannel.eventQueue }
}
