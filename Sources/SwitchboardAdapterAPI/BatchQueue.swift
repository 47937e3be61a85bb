import Synchronization

/// A queue that one reader takes in batches: everything pushed since its last call, in
/// order, in one array. Pushing never blocks and never waits.
///
/// Where an `AsyncStream` costs a wake-up (and, for an actor reader, a hop) per element, this
/// costs one per batch: a producer faster than its reader is read in batches of many. The
/// session manager reads adapter events this way (``AdapterEventQueue``), and each client's
/// delivery task its frames.
public final class BatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiter: CheckedContinuation<[Element], Never>?
        /// No more pushes: the reader gets what is queued, then the end.
        var finished = false
    }

    private let state = Mutex(State())

    /// An empty, open queue.
    public init() {}

    /// Adds an element; returns false (adding nothing) once the queue is finished, closed or
    /// its reader cancelled.
    @discardableResult
    public func push(_ item: Element) -> Bool {
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<[Element], Never>?) in
            guard !s.finished else { return (false, nil) }
            guard let waiter = s.waiter else {
                s.items.append(item)
                return (true, nil)
            }
            s.waiter = nil
            return (true, waiter)
        }
        waiter?.resume(returning: [item])
        return accepted
    }

    /// Ends the queue: the reader gets what is still queued, then an empty batch.
    public func finish() {
        end(dropping: false)
    }

    /// Ends the queue and drops what is still queued: the reader's next batch is empty.
    public func close() {
        end(dropping: true)
    }

    /// The elements pushed since the last call, oldest first, waiting while there are none.
    /// Empty once the queue has ended and is drained, or when the calling task is cancelled
    /// (which also ends the queue). One reader at a time.
    public func next() async -> [Element] {
        if let ready = state.withLock({ Self.take(&$0) }) { return ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Element], Never>) in
                let ready = state.withLock { s -> [Element]? in
                    if let ready = Self.take(&s) { return ready }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            close()
        }
    }

    private func end(dropping: Bool) {
        let waiter = state.withLock { s -> CheckedContinuation<[Element], Never>? in
            s.finished = true
            if dropping { s.items = [] }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: [])
    }

    /// What a reader gets without waiting: the queued elements, or an empty batch at the end.
    private static func take(_ s: inout State) -> [Element]? {
        if !s.items.isEmpty {
            defer { s.items = [] }
            return s.items
        }
        return s.finished ? [] : nil
    }
}

/// The adapter events the session manager reads in batches (``AgentAdapter/eventQueue``).
public typealias AdapterEventQueue = BatchQueue<AdapterEvent>

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
        // The queue, once chosen, stays: it is pushed to outside this lock (the queue has its
        // own), so a producer does not hold two locks while the reader takes its batch.
        let queue = state.withLock { s -> AdapterEventQueue? in
            guard !s.finished else { return nil }
            switch s.way {
            case .queue(let queue): return queue
            case .stream(_, let continuation): continuation.yield(event)
            case .undecided(var waiting):
                s.way = .undecided([])  // so the append below does not copy the array
                waiting.append(event)
                s.way = .undecided(waiting)
            }
            return nil
        }
        queue?.push(event)
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
