import SwitchboardAdapterAPI
import Synchronization

/// How a turn ended, as the turn's body reports it to ``TurnRunner``.
public enum TurnOutcome: Sendable, Hashable {
    /// The agent answered: the runner emits `message` (a `done` message) and reports `idle`.
    case done(ChatMessage)
    /// The turn failed: the runner emits `message` (an `error` message) and reports `error`.
    case error(ChatMessage)
    /// The turn failed and the adapter already emitted the `error` message: the runner only
    /// reports `error`.
    case errorAlreadyReported
    /// The turn stopped because it was interrupted or cancelled; the runner reports
    /// `interrupted` (when an interrupt asked for it) and emits nothing.
    case stopped

    /// The usual end of a turn: `done` with the text "Response complete" and, when known, the
    /// model that answered.
    public static func done(model: String? = nil, extra: [String: JSONValue] = [:]) -> TurnOutcome {
        var extra = extra
        if let model { extra["model"] = .string(model) }
        return .done(ChatMessage(type: .done, content: "Response complete", extra: extra))
    }

    /// A failed turn: an `error` message with `reason`.
    public static func failed(_ reason: String) -> TurnOutcome {
        .error(ChatMessage(type: .error, content: reason))
    }
}

/// Owns what every adapter's turns have in common, so a plugin writes only what is specific
/// to its agent:
///
/// - **One turn at a time.** ``begin(onInterrupt:_:)`` moves the status from idle, error or
///   interrupted to running, or throws ``AdapterError`` `invalidState` ("A turn is already
///   running.") and leaves the running turn alone.
/// - **Every turn ends.** The body runs on a task of its own and returns a ``TurnOutcome``;
///   the runner emits the final message and status.
/// - **Interrupt** cancels the turn's task (or calls the adapter's own interrupt, for agents
///   that must be asked to stop), waits until the body has returned, and reports
///   `interrupted`. Without a running turn it does nothing.
/// - **Dispose** refuses new turns, stops the running one, runs the adapter's clean-up, and
///   finishes the event stream: nothing is emitted afterwards.
/// - **Decision requests** the turn asked through the channel (``AdapterEventChannel/ask(_:)``)
///   and that are still open are withdrawn: with reason `interrupt` when the turn is
///   interrupted (before the agent is asked to stop, so it is not left waiting for an
///   answer), `turn_end` when it ends, `dispose` at dispose.
///
/// ```swift
/// func sendMessage(_ text: String) async throws {
///     try turns.begin { [agent] in
///         for await chunk in agent.reply(to: text) { … channel.emit(…) }
///         return Task.isCancelled ? .stopped : .done()
///     }
/// }
/// func interrupt() async throws { await turns.interrupt() }
/// func dispose() async { await turns.dispose() }
/// ```
public final class TurnRunner: Sendable {
    private final class Turn: Sendable {
        let interruptRequested = Atomic<Bool>(false)
        let task = Mutex<Task<Void, Never>?>(nil)
        let onInterrupt: (@Sendable () async -> Void)?
        let finished = OneShot<Void>()

        init(onInterrupt: (@Sendable () async -> Void)?) { self.onInterrupt = onInterrupt }
    }

    private struct State {
        var turn: Turn?
        var disposed = false
    }

    /// The channel the runner reports through.
    public let channel: AdapterEventChannel
    /// Names the adapter in error messages, e.g. `claude`.
    public let agentName: String
    private let state = Mutex(State())
    /// Serialises interrupt and dispose.
    private let control = AsyncLock()

    /// A runner that reports through `channel`.
    public init(channel: AdapterEventChannel, agentName: String = "agent") {
        self.channel = channel
        self.agentName = agentName
    }

    /// Whether ``dispose(cleanup:)`` was called.
    public var isDisposed: Bool { state.withLock { $0.disposed } }

    /// Throws `invalidState` once the adapter was disposed.
    public func checkNotDisposed() throws(AdapterError) {
        if isDisposed { throw AdapterError(.invalidState, "The \(agentName) adapter has been disposed.") }
    }

    /// Whether a turn is running.
    public var isRunning: Bool { state.withLock { $0.turn != nil } }

    /// Starts a turn: `body` runs on a task of its own; this returns once it is under way.
    ///
    /// - Parameters:
    ///   - onInterrupt: how to stop this turn, for agents that must be asked (write an
    ///     interrupt request, signal a process). The runner calls it on ``interrupt()``; when
    ///     it returns and the body still runs, the body's task is cancelled. Without it, an
    ///     interrupt cancels the body's task at once.
    ///   - body: the turn. It emits the agent's messages through the channel and returns how
    ///     the turn ended; it should return promptly once its task is cancelled.
    /// - Throws: ``AdapterError`` `invalidState` when disposed or when a turn is running.
    public func begin(
        onInterrupt: (@Sendable () async -> Void)? = nil,
        _ body: @escaping @Sendable () async -> TurnOutcome
    ) throws(AdapterError) {
        let turn = Turn(onInterrupt: onInterrupt)
        try state.withLock { s throws(AdapterError) in
            guard !s.disposed else { throw AdapterError(.invalidState, "The \(agentName) adapter has been disposed.") }
            guard s.turn == nil, channel.transition(from: [.idle, .error, .interrupted], to: .running) else {
                throw AdapterError(.invalidState, "A turn is already running.")
            }
            s.turn = turn
        }
        let task = Task { [self] in
            let outcome = await body()
            end(turn, outcome)
        }
        turn.task.withLock { $0 = task }
    }

    /// Reports the end of `turn`, unless it was disposed meanwhile.
    private func end(_ turn: Turn, _ outcome: TurnOutcome) {
        let current = state.withLock { s -> Bool in
            guard s.turn === turn else { return false }
            s.turn = nil
            return !s.disposed
        }
        defer { turn.finished.set(()) }
        guard current else { return }
        channel.withdrawAll(reason: turn.interruptRequested.load(ordering: .sequentiallyConsistent) ? .interrupt : .turnEnded)
        if turn.interruptRequested.load(ordering: .sequentiallyConsistent) {
            if case .done(let message) = outcome { channel.emit(message) }
            channel.setStatus(.interrupted)
            return
        }
        switch outcome {
        case .done(let message):
            channel.emit(message)
            channel.setStatus(.idle)
        case .error(let message):
            channel.emit(message)
            channel.setStatus(.error)
        case .errorAlreadyReported:
            channel.setStatus(.error)
        case .stopped:
            channel.setStatus(.interrupted)
        }
    }

    /// Interrupts the running turn and returns once it has ended with status `interrupted`;
    /// does nothing when no turn runs.
    /// - Returns: whether a turn was running.
    @discardableResult
    public func interrupt() async -> Bool {
        await control.withLock {
            guard let turn = state.withLock({ $0.turn }) else { return false }
            turn.interruptRequested.store(true, ordering: .sequentiallyConsistent)
            channel.withdrawAll(reason: .interrupt)
            if let onInterrupt = turn.onInterrupt {
                await onInterrupt()
                if turn.finished.value == nil { turn.task.withLock { $0 }?.cancel() }
            } else {
                turn.task.withLock { $0 }?.cancel()
            }
            await turn.task.withLock { $0 }?.value
            _ = await turn.finished.wait()
            return true
        }
    }

    /// Disposes: refuses new turns, cancels the running one, runs `cleanup` (stop the agent's
    /// processes, close connections), waits for the turn's task, and finishes the channel.
    /// Calling it again does nothing but wait for the first call.
    public func dispose(cleanup: @Sendable () async -> Void = {}) async {
        let first = state.withLock { s in
            defer { s.disposed = true }
            return !s.disposed
        }
        await control.withLock {
            guard first else { return }
            let turn = state.withLock { $0.turn }
            channel.withdrawAll(reason: .dispose)
            turn?.task.withLock { $0 }?.cancel()
            await cleanup()
            await turn?.task.withLock { $0 }?.value
            channel.finish()
        }
    }
}
