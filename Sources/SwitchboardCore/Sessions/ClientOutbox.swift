import Synchronization

/// One client's queue of frames and the loop that delivers them, so a slow client waits
/// alone: the session only enqueues, which never blocks.
///
/// The queue is a list of slices under a lock, taken whole by the delivery loop: a batch of
/// frames the session committed (or the ring's frames replayed at connect) enters it as one
/// slice of the array it already is — no per-frame copy or reference count — and a client
/// that keeps up gets it in one step (one wake-up, one ``SessionClient/sendBatch`` call), not
/// one hop per frame.
final class ClientOutbox: Sendable {
    private struct State {
        var queued: [ArraySlice<SessionFrame>] = []
        /// Frames queued or being sent: what counts against the limit.
        var pending = 0
        var waiter: CheckedContinuation<[ArraySlice<SessionFrame>]?, Never>?
        var closed = false
    }

    let id: String
    /// How many live frames may wait before the client is cut off (the configured limit).
    let allowance: Int
    /// The bound on the queue: the allowance plus the frames replayed at connect.
    let limit: Int
    private let state = Mutex(State())

    init(id: String, allowance: Int, replay: Int) {
        self.id = id
        self.allowance = allowance
        // Saturating: the allowance is a configured number and must not trap whatever it is.
        let (sum, overflow) = allowance.addingReportingOverflow(replay)
        self.limit = overflow ? Int.max : sum
    }

    /// Queues frames, in order; returns false (queuing none of them) when they would put the
    /// client too far behind, or the outbox is closed.
    func enqueue(_ frames: ArraySlice<SessionFrame>) -> Bool {
        let count = frames.count
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<[ArraySlice<SessionFrame>]?, Never>?) in
            // `pending <= limit` always, so the subtraction cannot overflow.
            guard !s.closed, count <= limit - s.pending else { return (false, nil) }
            s.pending += count
            guard let waiter = s.waiter else {
                s.queued.append(frames)
                return (true, nil)
            }
            s.waiter = nil
            return (true, waiter)
        }
        waiter?.resume(returning: [frames])
        return accepted
    }

    /// Queues one frame; false when the client is too far behind.
    func enqueue(_ frame: SessionFrame) -> Bool {
        enqueue([frame][...])
    }

    /// Delivers frames until ``close()``, cancellation or a failed send; returns the failure, if
    /// any. With `prefix`, the frames it sends come first (the part of a replay read from the log).
    func deliver(
        prefix: (@Sendable (@Sendable (SessionFrame) async throws -> Void) async throws -> Void)? = nil,
        to client: SessionClient
    ) async -> String? {
        do {
            if let prefix { try await prefix(client.send) }
            while let slices = await take() {
                for slice in slices {
                    if let sendBatch = client.sendBatch {
                        try await sendBatch(slice)
                    } else {
                        for frame in slice { try await client.send(frame) }
                    }
                    state.withLock { $0.pending -= slice.count }
                }
            }
        } catch is CancellationError {
            return nil
        } catch {
            return "sending to the client failed: \(error)"
        }
        return nil
    }

    /// Every frame queued, oldest first, waiting while there is none; `nil` once closed or
    /// when the calling task is cancelled.
    private func take() async -> [ArraySlice<SessionFrame>]? {
        if let ready = state.withLock({ Self.take(&$0) }) { return ready.isEmpty ? nil : ready }
        let batch = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[ArraySlice<SessionFrame>]?, Never>) in
                let ready = state.withLock { s -> [ArraySlice<SessionFrame>]? in
                    if let ready = Self.take(&s) { return ready }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready.isEmpty ? nil : ready) }
            }
        } onCancel: {
            close()
        }
        return batch
    }

    /// What the loop gets without waiting: the queued frames, or an empty batch once closed.
    private static func take(_ s: inout State) -> [ArraySlice<SessionFrame>]? {
        if s.closed { return [] }
        guard !s.queued.isEmpty else { return nil }
        defer { s.queued = [] }
        return s.queued
    }

    /// Stops delivery; frames still queued are dropped.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<[ArraySlice<SessionFrame>]?, Never>? in
            s.closed = true
            s.queued = []
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }
}
