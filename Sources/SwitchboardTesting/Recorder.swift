import Synchronization

/// Collects values as they arrive and lets a test wait, with a deadline, until what has
/// arrived satisfies a condition — instead of sleeping and hoping.
public final class Recorder<Element: Sendable>: Sendable {
    private struct Waiter {
        var predicate: @Sendable ([Element]) -> Bool
        var continuation: CheckedContinuation<[Element], any Error>
    }

    private struct State {
        var items: [Element] = []
        var finished = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Everything recorded so far.
    public var items: [Element] { state.withLock { $0.items } }

    /// Whether ``finish()`` was called.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Records one value and wakes the waiters it satisfies.
    public func append(_ item: Element) {
        let ready = state.withLock { s -> [(CheckedContinuation<[Element], any Error>, [Element])] in
            s.items.append(item)
            var ready: [(CheckedContinuation<[Element], any Error>, [Element])] = []
            for (key, waiter) in s.waiters where waiter.predicate(s.items) {
                ready.append((waiter.continuation, s.items))
                s.waiters.removeValue(forKey: key)
            }
            return ready
        }
        for (continuation, items) in ready { continuation.resume(returning: items) }
    }

    /// Marks the source as ended; waiters whose condition does not hold fail at once.
    public func finish() {
        let waiting = state.withLock { s -> [(CheckedContinuation<[Element], any Error>, Bool, [Element])] in
            s.finished = true
            defer { s.waiters = [:] }
            return s.waiters.values.map { ($0.continuation, $0.predicate(s.items), s.items) }
        }
        for (continuation, satisfied, items) in waiting {
            if satisfied { continuation.resume(returning: items) } else { continuation.resume(throwing: RecorderWaitError.finished(items.count)) }
        }
    }

    /// Waits until `predicate` holds for what has been recorded, or fails after `timeout`.
    /// The predicate runs under the recorder's lock: it must not call back into the recorder.
    /// - Returns: the values at the moment the condition held.
    @discardableResult
    public func wait(
        within timeout: Duration = .seconds(15),
        until predicate: @escaping @Sendable ([Element]) -> Bool
    ) async throws -> [Element] {
        try await withThrowingTaskGroup(of: [Element].self) { group in
            group.addTask { try await self.waitWithoutDeadline(predicate) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw RecorderWaitError.timedOut(timeout, "\(self.items)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Waits until the source has finished.
    public func waitUntilFinished(within timeout: Duration = .seconds(15)) async throws {
        do {
            try await wait(within: timeout) { _ in false }
        } catch RecorderWaitError.finished {
            return
        }
    }

    private func waitWithoutDeadline(_ predicate: @escaping @Sendable ([Element]) -> Bool) async throws -> [Element] {
        let key = state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Element], any Error>) in
                let immediate = state.withLock { s -> Result<[Element], any Error>? in
                    if predicate(s.items) { return .success(s.items) }
                    if s.finished { return .failure(RecorderWaitError.finished(s.items.count)) }
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

/// Why waiting on a ``Recorder`` failed.
public enum RecorderWaitError: Error, CustomStringConvertible {
    /// The deadline passed; carries what had arrived.
    case timedOut(Duration, String)
    /// The source finished first; carries how many values had arrived.
    case finished(Int)

    public var description: String {
        switch self {
        case .timedOut(let d, let items): "Nothing matching arrived within \(d); got: \(items)"
        case .finished(let n): "The source finished without a match after \(n) values."
        }
    }
}
