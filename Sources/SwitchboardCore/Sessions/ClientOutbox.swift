import Synchronization
import SwitchboardAdapterAPI

/// One client's queue of frames and the loop that delivers them, so a slow client waits
/// alone: the session only enqueues, which never blocks.
///
/// The queue holds slices of the arrays the frames already are (a batch the session committed,
/// the ring's frames replayed at connect): queuing costs one reference per slice, not one per
/// frame, and a client that keeps up gets them in one step (one wake-up, one
/// ``SessionClient/sendBatch`` call per slice), not one hop per frame.
final class ClientOutbox: Sendable {
    let id: String
    /// How many live frames may wait before the client is cut off (the configured limit).
    let allowance: Int
    /// The bound on the queue: the allowance plus the frames replayed at connect.
    let limit: Int
    private let queue = BatchQueue<ArraySlice<SessionFrame>>()
    /// Frames queued or being sent: what counts against the limit.
    private let pending = Mutex(0)

    init(id: String, allowance: Int, replay: Int) {
        self.id = id
        self.allowance = allowance
        // Saturating: the allowance is a configured number and must not trap whatever it is.
        let (sum, overflow) = allowance.addingReportingOverflow(replay)
        self.limit = overflow ? Int.max : sum
    }

    /// Queues frames, in order; returns false (queuing none of them) when they would put the
    /// client too far behind, or the outbox is closed. One caller at a time (the session).
    func enqueue(_ frames: ArraySlice<SessionFrame>) -> Bool {
        let count = frames.count
        guard count > 0 else { return true }
        let room = pending.withLock { pending -> Bool in
            // `pending <= limit` always, so the subtraction cannot overflow.
            guard count <= limit - pending else { return false }
            pending += count
            return true
        }
        guard room else { return false }
        guard queue.push(frames) else {
            pending.withLock { $0 -= count }
            return false
        }
        return true
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
            while true {
                let slices = await queue.next()
                if slices.isEmpty { return nil }
                for slice in slices {
                    if let sendBatch = client.sendBatch {
                        try await sendBatch(slice)
                    } else {
                        for frame in slice { try await client.send(frame) }
                    }
                    pending.withLock { $0 -= slice.count }
                }
            }
        } catch is CancellationError {
            return nil
        } catch {
            return "sending to the client failed: \(error)"
        }
    }

    /// Stops delivery; frames still queued are dropped.
    func close() {
        queue.close()
    }
}
