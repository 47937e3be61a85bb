import Logging
import SwitchboardAdapterAPI
import Synchronization

/// What a plugin's events reach, in the daemon's process whichever way the plugin runs:
/// decodes events, tracks status, completes the requests the host is waiting on, and drops
/// — with a reason on the adapter's stream or in the log — whatever breaks the ABI's rules.
final class PluginHostContext: Sendable {
    /// One request the host waits on.
    private struct Pending {
        var continuation: CheckedContinuation<Void, any Error>
        /// The descriptor function, for messages (`send_message`).
        var name: String
        /// Whether the C call returned (as opposed to: the outcome event has not come).
        var returned = false
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextRequest: UInt64 = 1
        var status: SessionStatus = .idle
        var agentSessionId: String?
        var malformed = 0
        var closed = false
        var droppedAfterClose = 0
        /// Set when the host rejected an event: the turn ended in error, and the plugin's
        /// later status reports are ignored until the next request.
        var faulted = false
        /// Rejections reported on the stream since the last request.
        var rejectedThisTurn = 0
        /// The host's turn timeout, armed while a turn runs.
        var turnTimer: Task<Void, Never>?
    }

    /// How many rejected events per request become error events; the rest are only logged.
    static let maximumRejectionsReported = 10

    /// The largest event the host reads (16 MiB); a larger one is rejected unread.
    static let maximumEventBytes = 16 << 20

    let pluginName: String
    /// Where the decoded events go: the adapter's stream, or its batch queue.
    let outlet = AdapterEventOutlet()
    var events: AsyncStream<AdapterEvent> { outlet.events }
    private let state = Mutex(State())
    /// Callbacks in flight, to notice a plugin that calls from two threads at once.
    private let inFlight = Atomic<Int>(0)
    static let logger = Logger(label: "switchboard.plugins")

    init(pluginName: String) {
        self.pluginName = pluginName
    }

    var status: SessionStatus { state.withLock { $0.status } }
    var agentSessionId: String? { state.withLock { $0.agentSessionId } }
    var malformedEventCount: Int { state.withLock { $0.malformed } }
    var isClosed: Bool { state.withLock { $0.closed } }

    func nextRequestID() -> UInt64 {
        state.withLock { s in
            defer { s.nextRequest &+= 1 }
            return s.nextRequest
        }
    }

    func register(_ id: UInt64, name: String = "a call", _ continuation: CheckedContinuation<Void, any Error>) {
        let refused = state.withLock { s -> Bool in
            guard !s.closed else { return true }
            s.pending[id] = Pending(continuation: continuation, name: name)
            s.faulted = false
            s.rejectedThisTurn = 0
            return false
        }
        if refused {
            continuation.resume(throwing: AdapterError(.invalidState, "Plugin '\(pluginName)': the adapter has been disposed."))
        }
    }

    /// Notes that the C call of request `id` returned.
    func markReturned(_ id: UInt64) {
        state.withLock { s in s.pending[id]?.returned = true }
    }

    /// The names of the requests whose C calls have not returned, for a crash's message.
    var callsInFlight: [String] {
        state.withLock { s in s.pending.values.filter { !$0.returned }.map(\.name).sorted() }
    }

    /// Fails request `id` because its deadline passed.
    /// - Returns: `nil` when it was no longer pending; else whether its C call never
    ///   returned (a stuck call, as opposed to a missing outcome event).
    func timeOut(_ id: UInt64, after limit: Duration) -> Bool? {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return nil }
        let seconds = Self.seconds(limit)
        let message = pending.returned
            ? "Plugin '\(pluginName)' sent no outcome for \(pending.name) within \(seconds) s; the request failed."
            : "Plugin '\(pluginName)' did not return from \(pending.name) within \(seconds) s; the request failed."
        Self.logger.warning("plugin request timed out", metadata: ["plugin": "\(pluginName)", "call": "\(pending.name)", "returned": "\(pending.returned)"])
        pending.continuation.resume(throwing: AdapterError(.protocolViolation, message))
        return !pending.returned
    }

    static func seconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        if atto == 0 { return "\(s)" }
        let tenths = Double(s) + Double(atto) / 1e18
        return String(Double(Int(tenths * 10)) / 10)
    }

    /// Resumes the waiter of request `id`, once; later completions of it are ignored.
    @discardableResult
    func complete(_ id: UInt64, with error: (any Error)?) -> Bool {
        guard let waiter = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        if let error { waiter.continuation.resume(throwing: error) } else { waiter.continuation.resume() }
        return true
    }

    func emit(_ event: AdapterEvent) {
        outlet.yield(event)
    }

    /// Arms the host's turn timeout: unless the turn ends first, `fire` runs after `limit`.
    func armTurnTimeout(_ limit: Duration, _ fire: @escaping @Sendable () async -> Void) {
        let timer = Task {
            do { try await Task.sleep(for: limit) } catch { return }
            await fire()
        }
        let old = state.withLock { s in
            defer { s.turnTimer = timer }
            return s.turnTimer
        }
        old?.cancel()
    }

    /// Disarms the turn timeout (the turn ended).
    func disarmTurnTimeout() {
        state.withLock { s in
            defer { s.turnTimer = nil }
            return s.turnTimer
        }?.cancel()
    }

    /// Reads one event from the plugin. Any thread; events from two threads at once, events
    /// after the adapter was closed, and events over ``maximumEventBytes`` are dropped with
    /// a reason.
    func receive(_ bytes: UnsafeBufferPointer<UInt8>) {
        let concurrent = inFlight.add(1, ordering: .acquiringAndReleasing).newValue > 1
        defer { inFlight.subtract(1, ordering: .acquiringAndReleasing) }
        if concurrent {
            reject("an event from one thread while another event was being delivered (the ABI serialises callbacks per adapter)")
            return
        }
        if dropIfClosed() { return }
        guard bytes.count <= Self.maximumEventBytes else {
            reject("an event of \(bytes.count) bytes (the limit is \(Self.maximumEventBytes))")
            return
        }
        let event: PluginEvent
        do {
            event = try PluginEvent(jsonBytes: bytes)
        } catch {
            reject("an invalid event (\(error.description))")
            return
        }
        switch event {
        case .message(let message, _):
            if message.type == .done || message.type == .error { disarmTurnTimeout() }
            outlet.yield(.message(message))
        case .status(let status, let agentSessionId, _):
            let (reported, id) = state.withLock { s in
                // After a rejected event the turn stays in error whatever the plugin says.
                if !s.faulted { s.status = status }
                if let agentSessionId { s.agentSessionId = agentSessionId }
                return (s.status, s.agentSessionId)
            }
            if status != .running { disarmTurnTimeout() }
            outlet.yield(.status(reported, agentSessionId: id))
        case .error(let error, _):
            // An `error` event's code is read but not kept: `AdapterEvent.error` is text,
            // and the session manager treats every error outside a request alike.
            disarmTurnTimeout()
            outlet.yield(.error(error.message))
        case .ask(let ask, _):
            // Checked by the session manager, which refuses an unusable one with a deny, so
            // the agent is not left waiting.
            outlet.yield(.decisionRequested(ask))
        case .withdraw(let id, let reason, _):
            outlet.yield(.decisionWithdrawn(id: id, reason: reason))
        case .completed(let request):
            if !complete(request, with: nil) { reject("a completion for request \(request), which is not pending") }
        case .failed(let request, let error):
            // The plugin's code (or `plugin` when it sent none) and message, as thrown.
            if !complete(request, with: error) {
                reject("a failure for request \(request), which is not pending")
            }
        }
    }

    /// After ``close(reason:)`` nothing reaches the stream: the event is counted and logged.
    private func dropIfClosed() -> Bool {
        let dropped: Int? = state.withLock { s in
            guard s.closed else { return nil }
            s.droppedAfterClose += 1
            return s.droppedAfterClose
        }
        guard let dropped else { return false }
        if dropped == 1 || dropped % 1000 == 0 {
            Self.logger.warning("plugin event after its adapter was disposed; dropped", metadata: ["plugin": "\(pluginName)", "dropped": "\(dropped)"])
        }
        return true
    }

    /// Counts a bad event and reports it on this adapter's stream.
    func reject(_ what: String) {
        let (closed, count) = state.withLock { s in
            s.malformed += 1
            s.faulted = true
            s.status = .error
            s.rejectedThisTurn += 1
            return (s.closed, s.rejectedThisTurn)
        }
        Self.logger.warning("plugin event rejected", metadata: ["plugin": "\(pluginName)", "reason": "\(what)"])
        // A flood of bad events reaches the session as a few errors; the log has them all.
        guard !closed, count <= Self.maximumRejectionsReported else { return }
        outlet.yield(.error("Plugin '\(pluginName)' sent \(what); the event was ignored."))
    }

    /// The plugin (or its helper) is gone: every pending request fails with `error`, the
    /// stream hears `message` and status `error`; the stream stays open (the adapter may
    /// start again in a new helper).
    func lost(_ message: String) {
        let waiters = state.withLock { s -> [Pending] in
            s.status = .error
            defer { s.pending = [:] }
            return Array(s.pending.values)
        }
        disarmTurnTimeout()
        for waiter in waiters { waiter.continuation.resume(throwing: AdapterError(.agentFailure, message)) }
        outlet.yield(.error(message))
        outlet.yield(.status(.error, agentSessionId: agentSessionId))
    }

    /// Fails every pending request and finishes the stream. Called once no call into the
    /// plugin will be made for this adapter; later callbacks are dropped and logged.
    func close(reason: String) {
        let (waiters, timer) = state.withLock { s in
            s.closed = true
            defer {
                s.pending = [:]
                s.turnTimer = nil
            }
            return (Array(s.pending.values), s.turnTimer)
        }
        timer?.cancel()
        for waiter in waiters { waiter.continuation.resume(throwing: AdapterError(.invalidState, reason)) }
        outlet.finish()
    }
}

/// The contexts plugins call back with, by token. A plugin is handed a token, never a
/// pointer to a Swift object: a callback after `destroy` (an ABI violation) finds no
/// context and is dropped and logged, instead of touching freed memory.
enum PluginContextTable {
    private struct Table {
        var next: UInt = 1
        var contexts: [UInt: PluginHostContext] = [:]
        var dropped = 0
    }

    private static let table = Mutex(Table())

    /// Registers `context`; the token goes to the plugin as its `host_context`.
    static func register(_ context: PluginHostContext) -> UInt {
        table.withLock { t in
            defer { t.next &+= 1 }
            t.contexts[t.next] = context
            return t.next
        }
    }

    static func lookup(_ token: UInt) -> PluginHostContext? {
        let found = table.withLock { t -> PluginHostContext? in
            if let context = t.contexts[token] { return context }
            t.dropped += 1
            return nil
        }
        if found == nil {
            let dropped = table.withLock { $0.dropped }
            if dropped == 1 || dropped % 1000 == 0 {
                PluginHostContext.logger.warning("plugin callback after destroy (or with an unknown context); dropped", metadata: ["dropped": "\(dropped)"])
            }
        }
        return found
    }

    /// Forgets `token`: `destroy` returned, so the plugin may call no more.
    static func remove(_ token: UInt) {
        table.withLock { _ = $0.contexts.removeValue(forKey: token) }
    }
}
