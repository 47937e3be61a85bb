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

/// Where an adapter's events go: the ``events`` stream or an ``AdapterEventQueue`` read in
/// batches, whichever its owner asks for first. Adapters and plugin hosts hold one and send
/// every event through ``yield(_:)``.
///
/// Until the owner asks, events wait in the outlet (none is lost to the way not taken), and
/// neither the stream nor the queue exists yet: an idle session pays for only the one it uses.
public final class AdapterEventOutlet: Sendable {
    private enum Way {
        case undecided([AdapterEvent])
        case queue(AdapterEventQueue)
        case stream(AsyncStream<AdapterEvent>, AsyncStream<AdapterEvent>.Continuation)
    }

    private struct State {
        var way = Way.undecided([])
        var finished = false
    }

    private let state = Mutex(State())

    /// An open outlet.
    public init() {}

    /// The events as a stream (what ``AgentAdapter/events`` returns). Once the owner took the
    /// ``queue`` instead, this is an empty, finished stream: there is one reader.
    public var events: AsyncStream<AdapterEvent> {
        state.withLock { s in
            switch s.way {
            case .stream(let stream, _):
                return stream
            case .queue:
                let (stream, continuation) = AsyncStream.makeStream(of: AdapterEvent.self)
                continuation.finish()
                return stream
            case .undecided(let waiting):
                let (stream, continuation) = AsyncStream.makeStream(of: AdapterEvent.self, bufferingPolicy: .unbounded)
                for event in waiting { continuation.yield(event) }
                if s.finished { continuation.finish() }
                s.way = .stream(stream, continuation)
                return stream
            }
        }
    }

    /// The events as a queue read in batches (the same queue on every call), with every event
    /// yielded so far. Once the owner read ``events`` instead, only later events reach it.
    public var queue: AdapterEventQueue {
        state.withLock { s in
            switch s.way {
            case .queue(let queue):
                return queue
            case .undecided(let waiting):
                let queue = AdapterEventQueue()
                for event in waiting { queue.push(event) }
                if s.finished { queue.finish() }
                s.way = .queue(queue)
                return queue
            case .stream(_, let continuation):
                let queue = AdapterEventQueue()
                if s.finished { queue.finish() } else { continuation.finish() }
                s.way = .queue(queue)
                return queue
            }
        }
    }

    /// Delivers an event (dropped once finished).
    public func yield(_ event: AdapterEvent) {
        state.withLock { s in
            guard !s.finished else { return }
            switch s.way {
            case .queue(let queue): queue.push(event)
            case .stream(_, let continuation): continuation.yield(event)
            case .undecided(var waiting):
                s.way = .undecided([])  // so the append below does not copy the array
                waiting.append(event)
                s.way = .undecided(waiting)
            }
        }
    }

    /// Ends the events: the reader gets what was delivered, then the end.
    public func finish() {
        state.withLock { s in
            guard !s.finished else { return }
            s.finished = true
            switch s.way {
            case .queue(let queue): queue.finish()
            case .stream(_, let continuation): continuation.finish()
            case .undecided: break
            }
        }
    }
}
