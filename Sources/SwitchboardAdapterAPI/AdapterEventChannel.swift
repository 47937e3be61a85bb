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
    }

    /// The stream the adapter hands to its owner.
    public let events: AsyncStream<AdapterEvent>
    private let continuation: AsyncStream<AdapterEvent>.Continuation
    private let state: Mutex<State>

    /// A channel with status `idle` and, optionally, a known agent session id.
    public init(agentSessionId: String? = nil) {
        (events, continuation) = AsyncStream.makeStream(of: AdapterEvent.self, bufferingPolicy: .unbounded)
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
            continuation.yield(.message(message))
        }
    }

    /// Delivers an error that is not the answer to a request.
    public func emitError(_ text: String) {
        state.withLock { s in
            guard !s.finished else { return }
            continuation.yield(.error(text))
        }
    }

    /// Changes the status and reports it (also when unchanged, so every turn's end is seen).
    public func setStatus(_ status: SessionStatus) {
        state.withLock { s in
            guard !s.finished else { return }
            s.status = status
            continuation.yield(.status(status, agentSessionId: s.agentSessionId))
        }
    }

    /// Records the agent's session id; reports it with the current status when it changed.
    public func setAgentSessionId(_ id: String) {
        state.withLock { s in
            guard !s.finished, s.agentSessionId != id else { return }
            s.agentSessionId = id
            continuation.yield(.status(s.status, agentSessionId: id))
        }
    }

    /// Moves from `expected` to `new` atomically; returns false (and changes nothing) when
    /// the status was something else. Adapters use it to refuse a second concurrent turn.
    public func transition(from expected: Set<SessionStatus>, to new: SessionStatus) -> Bool {
        state.withLock { s in
            guard !s.finished, expected.contains(s.status) else { return false }
            s.status = new
            continuation.yield(.status(new, agentSessionId: s.agentSessionId))
            return true
        }
    }

    /// Ends the stream. Nothing is delivered afterwards.
    public func finish() {
        state.withLock { s in
            guard !s.finished else { return }
            s.finished = true
            continuation.finish()
        }
    }
}
