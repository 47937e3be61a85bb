/// One agent session's backend: drives an agent (a CLI process, a server, a script) and
/// reports what it says as ``AdapterEvent``s.
///
/// The session manager makes one adapter per session, through a factory registered for the
/// agent type, and talks to it only through this protocol — whether the adapter lives in
/// this process or in a plugin loaded with `dlopen`.
///
/// ## Implementation requirements
///
/// An implementation must guarantee:
/// - **Prompt calls.** ``start(_:)``, ``sendMessage(_:)``, ``setModel(_:)`` and
///   ``interrupt()`` return once the request is accepted; a whole turn never runs inside
///   them. The turn's progress arrives as events.
/// - **One turn at a time.** ``sendMessage(_:)`` while a turn runs throws
///   ``AdapterError/Code/invalidState``; the running turn is unaffected.
/// - **Every turn ends.** A turn ends with a `done` message and status `idle`, or with an
///   error (an `error` message or ``AdapterEvent/error(_:)``) and status `error`, or, after
///   ``interrupt()``, with status `interrupted`. The next message then works.
/// - **Status events.** Each change of status is reported with
///   ``AdapterEvent/status(_:agentSessionId:)``, carrying the agent's own session id once
///   it is known; ``status`` and ``agentSessionId`` agree with the last event.
/// - **Model changes** apply from the next turn on.
/// - **Errors are events or thrown errors, never crashes.** Malformed settings throw from
///   the factory; a failed start throws from ``start(_:)``; anything that goes wrong during
///   a turn (a process that died, a line it could not parse) is an event.
/// - **Decisions are asked, not assumed.** An adapter whose agent needs a person's decision
///   reports a ``DecisionRequest`` (``AdapterEventChannel/ask(_:)``) and waits; the host
///   answers exactly once through ``answer(_:)``, or the adapter withdraws the request
///   (interrupt, end of turn). An answer for a request that is not open throws
///   ``AdapterError/Code/unknownRequest`` and changes nothing. Adapters that never ask keep
///   the default, which refuses every answer.
/// - **Dispose is final.** When ``dispose()`` returns, every process the adapter started has
///   been reaped, ``events`` has finished, and nothing more is emitted. Disposing twice is
///   harmless.
///
/// The conformance suite in `SwitchboardTesting` checks these for any adapter.
public protocol AgentAdapter: AnyObject, Sendable {
    /// The adapter's events, in order. There is one consumer: the session that owns it.
    /// The stream finishes when the adapter is disposed.
    var events: AsyncStream<AdapterEvent> { get }

    /// The same events as a queue its owner takes in batches, when the adapter offers one:
    /// under load the owner then pays one wake-up per batch instead of one per event. The
    /// owner reads either this or ``events``, never both, and asks before the adapter starts.
    /// The default is `nil` (read ``events``); adapters built on an ``AdapterEventChannel``
    /// that conform to ``ChannelBackedAdapter`` get the channel's queue.
    var eventQueue: AdapterEventQueue? { get }

    /// Prepares the agent for the session described by `options`. May start a process or
    /// connect to a server, or defer that to the first message.
    func start(_ options: StartOptions) async throws

    /// Starts a turn with the user's text. Returns once the turn is under way.
    func sendMessage(_ text: String) async throws

    /// Chooses the model for the next turn.
    func setModel(_ model: String) async throws

    /// Interrupts the running turn; does nothing when no turn runs.
    func interrupt() async throws

    /// Stops the agent and every process it started, and finishes ``events``.
    func dispose() async

    /// Passes the host's answer to an open ``DecisionRequest`` to the agent.
    /// - Throws: ``AdapterError`` `unknownRequest` when no request with that id is open.
    func answer(_ answer: DecisionAnswer) async throws

    /// The agent's own session id, once it is known.
    var agentSessionId: String? { get async }

    /// The current status.
    var status: SessionStatus { get async }
}

extension AgentAdapter {
    /// The default for adapters that never ask: every answer is refused.
    public func answer(_ answer: DecisionAnswer) async throws {
        throw AdapterError(.unknownRequest, "This adapter never asks for decisions, so it has no request '\(answer.id)'.")
    }
}

/// Makes adapters of one agent type from the settings in the config file.
///
/// `settings` is the agent's `settings` object from the config, untouched (`{}` when
/// absent). Throw ``AdapterError`` with code ``AdapterError/Code/invalidSettings`` when it
/// is unusable, naming the key and the problem.
public typealias AgentAdapterFactory = @Sendable (_ settings: JSONValue) throws -> any AgentAdapter

extension AgentAdapter {
    /// No queue: the owner reads ``events``.
    public var eventQueue: AdapterEventQueue? { nil }
}
