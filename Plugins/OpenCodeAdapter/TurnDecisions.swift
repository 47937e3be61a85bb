import SwitchboardAdapterAPI
import Synchronization

/// The permission requests and questions of one turn, each asked on a task the turn owns.
///
/// A task asks the host through the channel, waits for the answer, and hands it to
/// `deliver` (which sends it on the request's reply route); a delivery that fails becomes an
/// `error` message naming the request. When the server says it no longer waits for a request
/// (``TurnEventMapper/DecisionEvent/settled(id:)``) that is still open, the request is
/// withdrawn with reason `agent`. ``finish()`` ends the turn's part: it cancels what still
/// waits and waits for every task, so no task outlives the turn (and so the adapter).
///
/// It also keeps the time during which a request waited for a person, which the turn's
/// timeout does not count.
final class TurnDecisions: Sendable {
    /// Sends an answer to the server; returns why it failed, or `nil` when it arrived.
    typealias Deliver = @Sendable (ServerDecision, DecisionAnswer) async -> String?

    private struct State {
        var tasks: [String: Task<Void, Never>] = [:]
        /// Every request id seen, so a repeated event cannot ask again.
        var asked: Set<String> = []
        var finished = false
        /// How many asks wait for the host's answer, since when, and how long asks waited before.
        var waiting = 0
        var waitingSince: ContinuousClock.Instant?
        var waited: Duration = .zero
    }

    private let channel: AdapterEventChannel
    private let deliver: Deliver
    private let state = Mutex(State())

    init(channel: AdapterEventChannel, deliver: @escaping Deliver) {
        self.channel = channel
        self.deliver = deliver
    }

    /// Acts on one permission or question event of the turn's session.
    func handle(_ event: TurnEventMapper.DecisionEvent) {
        switch event {
        case .asked(let decision):
            // Refused here when nobody could answer it, so the server does not wait for ever.
            if let problem = decision.request.problem {
                return refuse(decision, "OpenCode sent \(decision.description) that Switchboard cannot show (\(problem)); it was refused.",
                              message: "Switchboard could not show this request (\(problem)).")
            }
            guard channel.hostAnswersDecisions else {
                return refuse(decision, "OpenCode asked \(decision.description) (\(decision.request.toolName): \(decision.request.summary)), but this Switchboard host does not relay decision requests; it was refused.",
                              message: "Nobody can answer permission requests through this Switchboard host.")
            }
            start(decision.id) { [self] in
                guard !Task.isCancelled else { return }
                let answer = await waitingForPerson { await channel.ask(decision.request) }
                guard let answer else { return }
                await send(decision, answer)
            }
        case .settled(let id):
            channel.withdraw(id, reason: .agent)
            // An ask whose task has not opened it yet must not open it now.
            state.withLock { $0.tasks[id] }?.cancel()
        }
    }

    /// Tells the session why (an `error` message) and rejects the request on the server.
    private func refuse(_ decision: ServerDecision, _ reason: String, message: String) {
        channel.emit(ChatMessage(type: .error, content: reason))
        let refusal = DecisionAnswer(id: decision.id, decision: Decision.deny, message: message)
        start(decision.id) { [self] in await send(decision, refusal) }
    }

    /// Runs `body` on a task keyed by the request's id; ignored for an id already asked and
    /// after ``finish()``.
    private func start(_ id: String, _ body: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            guard !s.finished, s.asked.insert(id).inserted else { return }
            s.tasks[id] = Task { [weak self] in
                await body()
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    private func send(_ decision: ServerDecision, _ answer: DecisionAnswer) async {
        if let failure = await deliver(decision, answer) {
            channel.emit(ChatMessage(type: .error, content: failure))
        }
    }

    /// Counts the time `body` runs as time spent waiting for a person.
    private func waitingForPerson<T>(_ body: () async -> T) async -> T {
        state.withLock { s in
            if s.waiting == 0 { s.waitingSince = .now }
            s.waiting += 1
        }
        defer {
            state.withLock { s in
                s.waiting -= 1
                if s.waiting == 0, let since = s.waitingSince {
                    s.waited += ContinuousClock.now - since
                    s.waitingSince = nil
                }
            }
        }
        return await body()
    }

    /// How long, in all, the turn waited for a person so far (including now).
    var timeWaitingForPerson: Duration {
        state.withLock { s in s.waited + (s.waitingSince.map { ContinuousClock.now - $0 } ?? .zero) }
    }

    /// Whether a request waits for a person right now.
    var isWaitingForPerson: Bool { state.withLock { $0.waiting > 0 } }

    /// Cancels every ask that still waits (its request is withdrawn) and waits until every
    /// task has returned (an answer being delivered is delivered first). Later events are
    /// ignored.
    func finish() async {
        let tasks = state.withLock { s in
            s.finished = true
            defer { s.tasks = [:] }
            return Array(s.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
