import Synchronization

/// One client's queue of frames and the loop that delivers them, so a slow client waits
/// alone: the session only enqueues, which never blocks.
final class ClientOutbox: Sendable {
    let id: String
    /// How many live frames may wait before the client is cut off (the configured limit).
    let allowance: Int
    /// The bound on the queue: the allowance plus the frames replayed at connect.
    let limit: Int
    private let frames: AsyncStream<SessionFrame>
    private let continuation: AsyncStream<SessionFrame>.Continuation
    private let pending = Mutex(0)

    init(id: String, allowance: Int, replay: Int) {
        self.id = id
        self.allowance = allowance
        // Saturating: the allowance is a configured number and must not trap whatever it is.
        let (sum, overflow) = allowance.addingReportingOverflow(replay)
        self.limit = overflow ? Int.max : sum
        (frames, continuation) = AsyncStream.makeStream(of: SessionFrame.self, bufferingPolicy: .unbounded)
    }

    /// Queues a frame; returns false (queuing nothing) when the client is too far behind.
    func enqueue(_ frame: SessionFrame) -> Bool {
        let accepted = pending.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        if accepted { continuation.yield(frame) }
        return accepted
    }

    /// Delivers frames until ``close()`` or a failed send; returns the failure, if any. With
    /// `prefix`, the frames it sends come first (the part of a replay read from the log).
    func deliver(
        prefix: (@Sendable (@Sendable (SessionFrame) async throws -> Void) async throws -> Void)? = nil,
        with send: @escaping @Sendable (SessionFrame) async throws -> Void
    ) async -> String? {
        if let prefix {
            do {
                try await prefix(send)
            } catch is CancellationError {
                return nil
            } catch {
                return "sending to the client failed: \(error)"
            }
        }
        for await frame in frames {
            do {
                try await send(frame)
            } catch is CancellationError {
                return nil
            } catch {
                return "sending to the client failed: \(error)"
            }
            pending.withLock { $0 -= 1 }
        }
        return nil
    }

    /// Stops delivery; frames still queued are dropped.
    func close() {
        continuation.finish()
    }
}
