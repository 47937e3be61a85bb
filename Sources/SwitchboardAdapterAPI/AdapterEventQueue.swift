import Synchronization

/// A queue of adapter events that one reader takes in batches: everything that arrived since
/// its last call, in order, in one array.
///
/// It is how the session manager reads an adapter that offers it (``AgentAdapter/eventQueue``):
/// where an `AsyncStream` costs a wake-up and an actor hop per event, the queue costs one per
/// batch, and a streaming turn that emits faster than the manager applies events is applied in
/// batches of many. Pushing never blocks and never waits; the queue is unbounded like the
/// stream it replaces (the manager applies events as fast as they come; the clients' queues
/// are the bounded ones).
public final class AdapterEventQueue: Sendable {
    private struct State {
        var events: [AdapterEvent] = []
        var waiter: CheckedContinuation<[AdapterEvent], Never>?
        var finished = false
        /// The reader was cancelled: reading ends as if finished.
        var cancelled = false
    }

    private let state = Mutex(State())

    /// An empty, open queue.
    public init() {}

    /// Adds an event; nothing happens after ``finish()`` or once the reader was cancelled
    /// (nobody would take it).
    public func push(_ event: AdapterEvent) {
        let waiter = state.withLock { s -> CheckedContinuation<[AdapterEvent], Never>? in
            guard !s.finished, !s.cancelled else { return nil }
            guard let waiter = s.waiter else {
                s.events.append(event)
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [event])
    }

    /// Ends the queue: the reader gets what is still queued, then an empty batch.
    public func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<[AdapterEvent], Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: [])
    }

    /// The events queued since the last call, oldest first, waiting while there are none.
    /// Empty once the queue is finished and drained, or when the calling task is cancelled.
    /// One reader at a time.
    public func next() async -> [AdapterEvent] {
        if let ready = take() { return ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[AdapterEvent], Never>) in
                let ready = state.withLock { s -> [AdapterEvent]? in
                    if let ready = Self.take(&s) { return ready }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<[AdapterEvent], Never>? in
                s.cancelled = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: [])
        }
    }

    private func take() -> [AdapterEvent]? {
        state.withLock { Self.take(&$0) }
    }

    /// What a reader gets without waiting: the queued events, or an empty batch at the end.
    private static func take(_ s: inout State) -> [AdapterEvent]? {
        if !s.events.isEmpty {
            defer { s.events = [] }
            return s.events
        }
        return s.finished || s.cancelled ? [] : nil
    }
}

/// Where an adapter's events go: the ``events`` stream, or — once the owner asked for it,
/// before any event — an ``AdapterEventQueue`` read in batches. Adapters and plugin hosts hold
/// one and send every event through ``yield(_:)``.
public final class AdapterEventOutlet: Sendable {
    private struct State {
        var queue: AdapterEventQueue?
        var finished = false
    }

    /// The events as a stream (what ``AgentAdapter/events`` returns).
    public let events: AsyncStream<AdapterEvent>
    private let continuation: AsyncStream<AdapterEvent>.Continuation
    private let state = Mutex(State())

    /// An open outlet, delivering to ``events`` until ``queue`` is asked for.
    public init() {
        (events, continuation) = AsyncStream.makeStream(of: AdapterEvent.self, bufferingPolicy: .unbounded)
    }

    /// The queue the events go to from now on (the same one on every call). The owner reads
    /// either this or ``events``, and asks for it before the adapter emits anything.
    public var queue: AdapterEventQueue {
        let (queue, finished) = state.withLock { s -> (AdapterEventQueue, Bool) in
            if let queue = s.queue { return (queue, false) }
            let queue = AdapterEventQueue()
            s.queue = queue
            return (queue, s.finished)
        }
        if finished { queue.finish() }
        return queue
    }

    /// Delivers an event.
    public func yield(_ event: AdapterEvent) {
        if let queue = state.withLock({ $0.queue }) {
            queue.push(event)
        } else {
            continuation.yield(event)
        }
    }

    /// Ends both ways of reading.
    public func finish() {
        let queue = state.withLock { s -> AdapterEventQueue? in
            s.finished = true
            return s.queue
        }
        continuation.finish()
        queue?.finish()
    }
}
