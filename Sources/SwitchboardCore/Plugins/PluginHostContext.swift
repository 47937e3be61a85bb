import SwitchboardAdapterAPI
import Synchronization

/// What a plugin's event callback reaches: decodes events, tracks status, and completes
/// the requests the host is waiting on.
final class PluginHostContext: Sendable {
    private struct State {
        var pending: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextRequest: UInt64 = 1
        var status: SessionStatus = .idle
        var agentSessionId: String?
        var malformed = 0
        var closed = false
    }

    let pluginName: String
    let events: AsyncStream<AdapterEvent>
    private let continuation: AsyncStream<AdapterEvent>.Continuation
    private let state = Mutex(State())

    init(pluginName: String) {
        self.pluginName = pluginName
        (events, continuation) = AsyncStream.makeStream(of: AdapterEvent.self, bufferingPolicy: .unbounded)
    }

    var status: SessionStatus { state.withLock { $0.status } }
    var agentSessionId: String? { state.withLock { $0.agentSessionId } }
    var malformedEventCount: Int { state.withLock { $0.malformed } }

    func nextRequestID() -> UInt64 {
        state.withLock { s in
            defer { s.nextRequest &+= 1 }
            return s.nextRequest
        }
    }

    func register(_ id: UInt64, _ continuation: CheckedContinuation<Void, any Error>) {
        let refused = state.withLock { s -> Bool in
            guard !s.closed else { return true }
            s.pending[id] = continuation
            return false
        }
        if refused {
            continuation.resume(throwing: AdapterError(.invalidState, "Plugin '\(pluginName)': the adapter has been disposed."))
        }
    }

    /// Resumes the waiter of request `id`, once; later completions of it are ignored.
    @discardableResult
    func complete(_ id: UInt64, with error: (any Error)?) -> Bool {
        guard let waiter = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        return true
    }

    func emit(_ event: AdapterEvent) {
        continuation.yield(event)
    }

    /// Reads one event from the plugin.
    func receive(_ bytes: UnsafeBufferPointer<UInt8>) {
        let event: PluginEvent
        do {
            event = try PluginEvent(jsonBytes: bytes)
        } catch {
            reject("an invalid event (\(error.description))")
            return
        }
        switch event {
        case .message(let message, _):
            continuation.yield(.message(message))
        case .status(let status, let agentSessionId, _):
            let id = state.withLock { s in
                s.status = status
                if let agentSessionId { s.agentSessionId = agentSessionId }
                return s.agentSessionId
            }
            continuation.yield(.status(status, agentSessionId: id))
        case .error(let error, _):
            // An `error` event's code is read but not kept: `AdapterEvent.error` is text,
            // and the session manager treats every error outside a request alike.
            continuation.yield(.error(error.message))
        case .ask(let ask, _):
            if let problem = ask.problem {
                reject("a decision request that is not usable (\(problem))")
            } else {
                continuation.yield(.decisionRequested(ask))
            }
        case .withdraw(let id, let reason, _):
            continuation.yield(.decisionWithdrawn(id: id, reason: reason))
        case .completed(let request):
            if !complete(request, with: nil) { reject("a completion for request \(request), which is not pending") }
        case .failed(let request, let error):
            // The plugin's code (or `plugin` when it sent none) and message, as thrown.
            if !complete(request, with: error) {
                reject("a failure for request \(request), which is not pending")
            }
        }
    }

    /// Counts a bad event and reports it on this adapter's stream.
    func reject(_ what: String) {
        state.withLock { $0.malformed += 1 }
        continuation.yield(.error("Plugin '\(pluginName)' sent \(what); the event was ignored."))
    }

    /// Fails every pending request and finishes the stream. Called after `destroy`.
    func close(reason: String) {
        let waiters = state.withLock { s in
            s.closed = true
            defer { s.pending = [:] }
            return Array(s.pending.values)
        }
        for waiter in waiters { waiter.resume(throwing: AdapterError(.invalidState, reason)) }
        continuation.finish()
    }
}
