import Synchronization

/// A call into the adapter under test that did not return in time.
struct DeadlineExpired: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "\(what) did not return within \(timeout)" }
}

/// Runs calls into an adapter with a deadline.
///
/// A task group cannot do this: it waits for every child, and a call that never returns
/// (the very bug being tested for) would hang the suite. So the call runs on a task of its
/// own; when the deadline passes first the caller gets ``DeadlineExpired`` and the call is
/// left behind, cancelled — the one unstructured task the suite may leave, and only for an
/// adapter that broke its contract.
enum Deadline {
    static func run<T: Sendable>(
        _ what: String,
        within timeout: Duration,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let slot = Slot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                slot.install(continuation)
                let work = Task {
                    do {
                        slot.resume(.success(try await operation()))
                    } catch {
                        slot.resume(.failure(error))
                    }
                }
                let timer = Task {
                    do { try await Task.sleep(for: timeout) } catch { return }
                    if slot.resume(.failure(DeadlineExpired(what: what, timeout: timeout))) { work.cancel() }
                }
                slot.onResume { timer.cancel() }
            }
        } onCancel: {
            slot.resume(.failure(CancellationError()))
        }
    }

    /// A continuation resumed exactly once, by whichever comes first.
    private final class Slot<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var pending: Result<T, any Error>?
            var done = false
            var cleanup: (@Sendable () -> Void)?
        }

        private let state = Mutex(State())

        func install(_ continuation: CheckedContinuation<T, any Error>) {
            let early = state.withLock { s -> Result<T, any Error>? in
                if let pending = s.pending { return pending }
                s.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func onResume(_ cleanup: @escaping @Sendable () -> Void) {
            let now = state.withLock { s -> Bool in
                if s.done { return true }
                s.cleanup = cleanup
                return false
            }
            if now { cleanup() }
        }

        /// Resumes the waiter; returns false when it had been resumed already.
        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            let (continuation, cleanup, first) = state.withLock { s -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) in
                guard !s.done else { return (nil, nil, false) }
                s.done = true
                if s.continuation == nil { s.pending = result }
                defer { s.continuation = nil; s.cleanup = nil }
                return (s.continuation, s.cleanup, true)
            }
            continuation?.resume(with: result)
            cleanup?()
            return first
        }
    }
}
