import SwitchboardAdapterAPI
import Synchronization

/// Records every event an adapter emits and lets a test wait, with a deadline, until the
/// events seen so far satisfy a condition.
///
/// The log consumes the adapter's `events` stream (its one consumer), on a task it owns
/// and cancels in ``stop()`` or when it is released.
public final class AdapterEventLog: Sendable {
    /// The events, as a ``Recorder`` to wait on.
    public let recorder = Recorder<AdapterEvent>()
    private let pump: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Starts recording `adapter`'s events.
    public init(_ adapter: any AgentAdapter) {
        let stream = adapter.events
        let recorder = self.recorder
        let task = Task {
            for await event in stream { recorder.append(event) }
            recorder.finish()
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
    public var events: [AdapterEvent] { recorder.items }

    /// The chat messages recorded so far.
    public var messages: [ChatMessage] {
        events.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    /// The statuses reported so far, in order.
    public var statuses: [SessionStatus] {
        events.compactMap { if case .status(let s, _) = $0 { s } else { nil } }
    }

    /// Whether the adapter's stream has finished.
    public var isFinished: Bool { recorder.isFinished }

    /// Waits until `predicate` holds for the events recorded so far, or fails after `timeout`.
    @discardableResult
    public func wait(
        within timeout: Duration = .seconds(15),
        until predicate: @escaping @Sendable ([AdapterEvent]) -> Bool
    ) async throws -> [AdapterEvent] {
        try await recorder.wait(within: timeout, until: predicate)
    }

    /// Waits until the adapter's event stream has finished (as it must after dispose).
    public func waitUntilFinished(within timeout: Duration = .seconds(15)) async throws {
        try await recorder.waitUntilFinished(within: timeout)
    }

    /// Waits until a chat message satisfies `predicate`, and returns it.
    @discardableResult
    public func waitForMessage(
        within timeout: Duration = .seconds(15),
        where predicate: @escaping @Sendable (ChatMessage) -> Bool
    ) async throws -> ChatMessage {
        let events = try await wait(within: timeout) { events in
            events.contains { if case .message(let m) = $0 { predicate(m) } else { false } }
        }
        for case .message(let m) in events where predicate(m) { return m }
        throw RecorderWaitError.timedOut(timeout, "\(events)")
    }

    /// Waits until the adapter reports `status` (counting only reports after `index` events).
    public func waitForStatus(_ status: SessionStatus, after index: Int = 0, within timeout: Duration = .seconds(15)) async throws {
        try await wait(within: timeout) { events in
            events.dropFirst(index).contains { if case .status(let s, _) = $0 { s == status } else { false } }
        }
    }
}
