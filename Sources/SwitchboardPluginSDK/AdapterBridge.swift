import CSwitchboardABI
import SwitchboardAdapterAPI
import Synchronization

/// Sends events to the host's callback, one at a time, and never after ``close()``.
///
/// The callback runs under the lock: events are delivered in order and never concurrently,
/// and once ``close()`` has taken the lock no callback is in flight or can start — which is
/// the ABI's promise that nothing arrives after `destroy` returns.
final class EventSink: @unchecked Sendable {
    // The callback and context are C values the host promised to keep valid until destroy.
    private let callback: switchboard_event_callback
    private let context: UnsafeMutableRawPointer?
    private let closed = Mutex(false)

    init(callback: switchboard_event_callback, context: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.context = context
    }

    func deliver(_ event: PluginEvent) {
        var writer = JSONWriter(capacity: 192)
        event.write(to: &writer)
        closed.withLock { isClosed in
            guard !isClosed else { return }
            writer.bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    callback(context, chars.baseAddress, chars.count)
                }
            }
        }
    }

    func close() {
        closed.withLock { $0 = true }
    }
}

/// One adapter instance behind a C handle: runs requests on tasks and pumps events out.
final class AdapterBridge: Sendable {
    private struct State {
        var disposed = false
        var nextTask = 0
        var tasks: [Int: Task<Void, Never>] = [:]
    }

    let adapter: any AgentAdapter
    let sink: EventSink
    /// Forwards the adapter's stream, unless the adapter's channel delivers directly.
    private let pump: Task<Void, Never>?
    private let state = Mutex(State())

    init(adapter: any AgentAdapter, sink: EventSink) {
        self.adapter = adapter
        self.sink = sink
        if let backed = adapter as? any ChannelBackedAdapter {
            backed.eventChannel.deliverDirectly { [sink] event in sink.deliver(Self.wire(event)) }
            pump = nil
        } else {
            pump = Task { [adapter, sink] in
                for await event in adapter.events {
                    sink.deliver(Self.wire(event))
                }
            }
        }
    }

    private static func wire(_ event: AdapterEvent) -> PluginEvent {
        switch event {
        case .message(let message): .message(message, request: nil)
        case .status(let status, let id): .status(status, agentSessionId: id, request: nil)
        case .error(let text): .error(AdapterError(.plugin, text), request: nil)
        case .decisionRequested(let ask): .ask(ask, request: nil)
        case .decisionWithdrawn(let id, let reason): .withdraw(id: id, reason: reason, request: nil)
        }
    }

    /// Runs one request on its own task and reports `completed` or `failed`.
    func perform(_ request: UInt64, _ body: @escaping @Sendable (any AgentAdapter) async throws -> Void) -> Int32 {
        state.withLock { s in
            guard !s.disposed else {
                sink.deliver(.failed(request: request, error: AdapterError(.invalidState, "the adapter has been disposed")))
                return
            }
            let key = s.nextTask
            s.nextTask += 1
            s.tasks[key] = Task { [adapter, sink, weak self] in
                do {
                    try await body(adapter)
                    sink.deliver(.completed(request: request))
                } catch let error as AdapterError {
                    // The code crosses too: the host throws the same AdapterError.
                    sink.deliver(.failed(request: request, error: error))
                } catch {
                    sink.deliver(.failed(request: request, error: AdapterError(.plugin, String(describing: error))))
                }
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: key) }
            }
        }
        return SWITCHBOARD_OK
    }

    /// Disposes the adapter, waits until its last event has been delivered, then completes.
    func dispose(request: UInt64) {
        let alreadyDisposed = state.withLock { s in
            defer { s.disposed = true }
            return s.disposed
        }
        if alreadyDisposed {
            sink.deliver(.completed(request: request))
            return
        }
        let work = Task { [adapter, sink, pump] in
            await adapter.dispose()
            await pump?.value
            sink.deliver(.completed(request: request))
        }
        state.withLock { s in
            s.tasks[s.nextTask] = work
            s.nextTask += 1
        }
    }

    /// Closes the sink (no callback after this returns) and stops everything still running.
    func destroy() {
        sink.close()
        pump?.cancel()
        let (wasDisposed, tasks) = state.withLock { s in
            defer { s.disposed = true; s.tasks = [:] }
            return (s.disposed, Array(s.tasks.values))
        }
        if !wasDisposed {
            // The host skipped dispose: still stop the agent, as the ABI promises.
            let adapter = self.adapter
            Task { await adapter.dispose() }
        } else {
            for task in tasks { task.cancel() }
        }
    }
}
