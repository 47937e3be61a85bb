import Synchronization

/// A value that is set once and can be awaited, with a deadline, by any number of tasks.
public final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
        var nextKey = 0
    }

    private let state = Mutex(State())

    /// A value not yet set.
    public init() {}

    /// The value, once set.
    public var value: Value? { state.withLock { $0.value } }

    /// Sets the value (the first call wins) and wakes every waiter.
    public func set(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value?, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// Waits for the value; `nil` when cancelled.
    public func wait() async -> Value? {
        let key = state.withLock { s in
            defer { s.nextKey += 1 }
            return s.nextKey
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let immediate = state.withLock { s -> Value?? in
                    if let value = s.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[key] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume(returning: nil)
        }
    }

    /// Waits for the value at most `timeout`; `nil` when it did not come in time.
    public func wait(within timeout: Duration) async -> Value? {
        if let value { return value }
        return await withTaskGroup(of: Value?.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? self.value
        }
    }
}

/// A flag that one task sets and others read, e.g. "the turn timed out".
public final class AtomicFlag: Sendable {
    private let value = Atomic(false)

    /// An unset flag.
    public init() {}

    /// Sets the flag; it stays set.
    public func set() { value.store(true, ordering: .sequentiallyConsistent) }

    /// Whether ``set()`` was called.
    public var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
