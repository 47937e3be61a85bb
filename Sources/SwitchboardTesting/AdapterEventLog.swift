import SwitchboardAdapterAPI
import Synchronization

/// Records every event an adapter emits and lets a test wait, with a deadline, until the
/// events seen so far satisfy a condition — instead of sleeping and hoping.
///
/// The log consumes the adapter's `events` stream (its one consumer), on a task it owns
/// and cancels in ``stop()`` or when it is released.
public final class AdapterEventLog: Sendable {
    private struct Waiter {
        var predicate: @Sendable ([AdapterEvent]) -> Bool
        var continuation: CheckedContinuation<[AdapterEvent], any Error>
    }

    private struct State {
        var events: [AdapterEvent] = []
        var finished = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    private let pump: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Starts recording `adapter`'s events.
    public init(_ adapter: any AgentAdapter) {
        let stream = adapter.events
        let task = Task { [weak self] in
            for await event in stream {
                self?.append(event)
            }
            self?.markFinished()
        }
        pump.withLock { $0 = task }
    }

    deinit {
        pump.withLock { $0?.cancel() }
    }

    /// Stops recording.
    public func stop() {
        pump.withLock { $0?.cancel() }
    }

    /// Everything recorded so far.
    public var events: [AdapterEvent] { state.withLock { $0.events } }

    /// The chat messages recorded so far.
    public var messages: [ChatMessage] {
        events.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    /// The statuses reported so far, in order.
    public var statuses: [SessionStatus] {
        events.compactMap { if case .status(let s, _) = $0 { s } else { nil } }
    }

    /// Whether the adapter's stream has finished.
    public var isFinished: Bool { state.withLock { $0.finished } }

    private func append(_ event: AdapterEvent) {
        let ready = state.withLock { s -> [CheckedContinuation<[AdapterEvent], any Error>] in
            s.events.append(event)
            return takeSatisfied(&s)
        }
        for c in ready { c.resume(returning: events) }
    }

    private func markFinished() {
        let waiting = state.withLock { s -> [(CheckedContinuation<[AdapterEvent], any Error>, Bool)] in
            s.finished = true
            let all = s.waiters.values.map { ($0.continuation, $0.predicate(s.events)) }
            s.waiters = [:]
            return all
        }
        let snapshot = events
        for (c, satisfied) in waiting {
            if satisfied { c.resume(returning: snapshot) } else { c.resume(throwing: EventWaitError.streamFinished(snapshot)) }
        }
    }

    private func takeSatisfied(_ s: inout State) -> [CheckedContinuation<[AdapterEvent], any Error>] {
        var ready: [CheckedContinuation<[AdapterEvent], any Error>] = []
        for (key, waiter) in s.waiters where waiter.predicate(s.events) {
            ready.append(waiter.continuation)
            s.waiters.removeValue(forKey: key)
        }
        return ready
    }

    /// Waits until `predicate` holds for the events recorded so far, or fails after `timeout`.
    /// The predicate runs under the log's lock: it must not call back into the log.
    /// - Returns: the events at the moment the condition held.
    /// - Throws: ``EventWaitError`` naming what had arrived by the deadline.
    @discardableResult
    public func wait(
        within timeout: Duration = .seconds(15),
        until predicate: @escaping @Sendable ([AdapterEvent]) -> Bool
    ) async throws -> [AdapterEvent] {
        try await withThrowingTaskGroup(of: [AdapterEvent].self) { group in
            group.addTask { try await self.waitWithoutDeadline(predicate) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw EventWaitError.timedOut(timeout, self.events)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Waits until the adapter's event stream has finished (as it must after dispose).
    public func waitUntilFinished(within timeout: Duration = .seconds(15)) async throws {
        do {
            try await wait(within: timeout) { _ in false }
        } catch EventWaitError.streamFinished {
            return
        }
    }

    /// Waits until a chat message satisfies `predicate`.
    @discardableResult
    public func waitForMessage(
        within timeout: Duration = .seconds(15),
        where predicate: @escaping @Sendable (ChatMessage) -> Bool
    ) async throws -> ChatMessage {
        let events = try await wait(within: timeout) { events in
            events.contains { if case .message(let m) = $0 { predicate(m) } else { false } }
        }
        for case .message(let m) in events where predicate(m) { return m }
        throw EventWaitError.timedOut(timeout, events)
    }

    /// Waits until the adapter reports `status` (counting only reports after `index` events).
    public func waitForStatus(_ status: SessionStatus, after index: Int = 0, within timeout: Duration = .seconds(15)) async throws {
        try await wait(within: timeout) { events in
            events.dropFirst(index).contains { if case .status(let s, _) = $0 { s == status } else { false } }
        }
    }

    private func waitWithoutDeadline(_ predicate: @escaping @Sendable ([AdapterEvent]) -> Bool) async throws -> [AdapterEvent] {
        let key = state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[AdapterEvent], any Error>) in
                let immediate = state.withLock { s -> Result<[AdapterEvent], any Error>? in
                    if predicate(s.events) { return .success(s.events) }
                    if s.finished { return .failure(EventWaitError.streamFinished(s.events)) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[key] = Waiter(predicate: predicate, continuation: c)
                    return nil
                }
                if let immediate { c.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// Why waiting for events failed.
public enum EventWaitError: Error, CustomStringConvertible {
    /// The deadline passed; carries what had arrived.
    case timedOut(Duration, [AdapterEvent])
    /// The adapter's stream ended first; carries what had arrived.
    case streamFinished([AdapterEvent])

    public var description: String {
        switch self {
        case .timedOut(let d, let events): "No matching event within \(d); got \(events.count): \(events)"
        case .streamFinished(let events): "The event stream finished without a matching event; got \(events.count): \(events)"
        }
    }
}
