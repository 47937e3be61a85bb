import CSwitchboardABI
import Dispatch
import Logging
import SwitchboardAdapterAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The host's side of an adapter that lives in a plugin loaded into this process (isolation
/// `inline`): an ``AgentAdapter`` that forwards every call through the plugin's C
/// descriptor and turns the JSON events it sends back into ``AdapterEvent``s.
///
/// Calls into the plugin run on a dispatch queue of this adapter's own — never on Swift's
/// cooperative pool or on a caller's actor — one at a time, as the ABI asks. Every request
/// has a deadline (``callTimeout``; ``disposeTimeout`` for `dispose`): a call that never
/// returns, or whose outcome never comes, fails its request and the session carries on; the
/// stuck call holds only this adapter's queue. A turn still running after ``turnTimeout`` is
/// interrupted and ended in error by the host.
///
/// A plugin that misbehaves — sends malformed or huge JSON, completes a request it was never
/// given or twice, calls back from two threads at once or after `destroy` — produces error
/// events on this adapter only (or, after `destroy`, a line in the log); the host and the
/// other adapters carry on. A plugin that crashes the process is contained only by running
/// it in a helper (``IsolatedPluginAdapter``).
public final class PluginAdapter: AgentAdapter {
    /// The plugin this adapter came from.
    public let plugin: LoadedPlugin
    /// The agent type this adapter serves (the config may map any type to a plugin).
    public let agentType: String
    /// How long `dispose` may take before the adapter is destroyed anyway.
    public let disposeTimeout: Duration
    /// How long any other request may take before it fails.
    public let callTimeout: Duration
    /// How long a turn may run before the host ends it; `nil`: no limit.
    public let turnTimeout: Duration?

    public var events: AsyncStream<AdapterEvent> { context.events }
    /// The events as a batch queue (read instead of ``events``).
    public var eventQueue: AdapterEventQueue? { context.outlet.queue }
    private let context: PluginHostContext
    private let handle: AdapterHandle
    /// Where every call into the plugin for this adapter runs, one at a time.
    private let queue: DispatchQueue
    private let lifecycle = Mutex((disposed: false, destroyed: false))

    /// Creates an adapter instance inside the plugin with the given settings. `create` runs
    /// on the caller's thread; ``AgentRegistry/makeAdapter(for:timeout:)`` calls factories
    /// off the caller's actor with a deadline.
    /// - Throws: ``AdapterError`` with the plugin's own reason when `create` fails.
    /// - Parameter agentType: the type it serves; the plugin's declared type by default.
    public init(plugin: LoadedPlugin, agentType: String? = nil, settings: JSONValue, disposeTimeout: Duration = .seconds(30),
                callTimeout: Duration = .seconds(30), turnTimeout: Duration? = nil) throws(AdapterError) {
        self.plugin = plugin
        self.agentType = agentType ?? plugin.agentType
        self.disposeTimeout = disposeTimeout
        self.callTimeout = callTimeout
        self.turnTimeout = turnTimeout
        guard let d = plugin.descriptor?.table else {
            throw AdapterError(.invalidState, "Plugin '\(plugin.fileName)' is not loaded in this process (it runs in a helper process).")
        }
        let context = PluginHostContext(pluginName: plugin.fileName)
        self.context = context
        queue = DispatchQueue(label: "switchboard.plugin.\(self.agentType)")
        let settingsText = settings.jsonText
        let token = PluginContextTable.register(context)
        var out: OpaquePointer?
        var error: UnsafeMutablePointer<CChar>?
        let rc = settingsText.withCString { pointer in
            d.create!(pointer, strlen(pointer), hostEventCallback, UnsafeMutableRawPointer(bitPattern: token), &out, &error)
        }
        var reason: String?
        if let error {
            reason = String(cString: error)
            d.free_buffer!(error)
        }
        guard rc == SWITCHBOARD_OK, let out else {
            // No adapter, so no callback may follow; one that does is dropped.
            PluginContextTable.remove(token)
            let why = reason ?? (rc == SWITCHBOARD_OK ? "it returned no adapter" : "it returned code \(rc) without a reason")
            throw AdapterError(.invalidSettings, "Plugin '\(plugin.fileName)' could not create an adapter for '\(self.agentType)': \(why)")
        }
        handle = AdapterHandle(pointer: out, token: token, table: d)
    }

    deinit {
        // Never waits: a destroy stuck in the plugin holds only this adapter's queue.
        _ = destroyNow()
    }

    /// How many events from the plugin could not be read (each also became an error event).
    public var malformedEventCount: Int { context.malformedEventCount }

    public var agentSessionId: String? { context.agentSessionId }
    public var status: SessionStatus { context.status }

    public func start(_ options: StartOptions) async throws {
        var options = options
        // The type served, which a plugin mapped to several types cannot know otherwise.
        if options.agentType == nil { options.agentType = agentType }
        let json = options.jsonText
        try await request("start") { d, h, id in
            json.withCString { d.start!(h, id, $0, strlen($0)) }
        }
    }

    public func sendMessage(_ text: String) async throws {
        try await request("send_message") { d, h, id in
            var copy = text
            return copy.withUTF8 { buffer in
                buffer.withMemoryRebound(to: CChar.self) { d.send_message!(h, id, $0.baseAddress, $0.count) }
            }
        }
        armTurnTimeout()
    }

    public func setModel(_ model: String) async throws {
        try await request("set_model") { d, h, id in
            model.withCString { d.set_model!(h, id, $0, strlen($0)) }
        }
    }

    public func interrupt() async throws {
        try await request("interrupt") { d, h, id in d.interrupt!(h, id) }
    }

    /// Passes an answer through the descriptor's `answer` function.
    /// - Throws: ``AdapterError`` `notImplemented` when the plugin has no `answer` (it was
    ///   built before decisions existed, or never asks); the plugin's own error otherwise.
    public func answer(_ answer: DecisionAnswer) async throws {
        guard handle.table.answer != nil else {
            throw AdapterError(.notImplemented, "Plugin '\(plugin.fileName)' takes no answers (its descriptor has no 'answer' function), so it has no request '\(answer.id)'.")
        }
        let json = answer.jsonValue.jsonText
        try await request("answer") { d, h, id in
            json.withCString { d.answer!(h, id, $0, strlen($0)) }
        }
    }

    public func dispose() async {
        let first = lifecycle.withLock { state in
            defer { state.disposed = true }
            return !state.disposed
        }
        guard first else { return }
        do {
            try await request("dispose", timeout: disposeTimeout) { d, h, id in d.dispose!(h, id) }
        } catch {
            context.emit(.error("Plugin '\(plugin.fileName)' did not dispose cleanly: \(error)"))
        }
        guard let destroyed = destroyNow() else { return }
        // Wait for `destroy` to return, within the call deadline: a plugin stuck in an
        // earlier call (or in destroy) is left behind on its queue, holding only its token.
        if await !destroyed.wait(within: callTimeout) {
            PluginHostContext.logger.warning("plugin destroy did not return in time; the adapter is abandoned", metadata: ["plugin": "\(plugin.fileName)"])
        }
    }

    /// Queues `destroy` once, and closes the context at once: the stream finishes and pending
    /// requests fail. The token is forgotten only when `destroy` has returned, so a callback
    /// in between is dropped by the closed context, and one after it by the table.
    /// - Returns: what says `destroy` returned; `nil` when it was already queued.
    private func destroyNow() -> DoneSignal? {
        let shouldDestroy = lifecycle.withLock { state in
            defer { state.destroyed = true }
            return !state.destroyed
        }
        guard shouldDestroy else { return nil }
        let handle = self.handle
        let done = DoneSignal()
        queue.async {
            handle.table.destroy!(handle.pointer)
            PluginContextTable.remove(handle.token)
            done.signal()
        }
        context.close(reason: "The '\(agentType)' adapter was disposed.")
        return done
    }

    private func armTurnTimeout() {
        guard let limit = turnTimeout else { return }
        let context = self.context, name = plugin.fileName
        context.armTurnTimeout(limit) { [weak self] in
            try? await self?.interrupt()
            context.emit(.error("Plugin '\(name)' did not end its turn within \(PluginHostContext.seconds(limit)) s; the host ended it."))
        }
    }

    private func request(
        _ name: String,
        timeout: Duration? = nil,
        _ call: @escaping @Sendable (switchboard_plugin_descriptor, OpaquePointer, UInt64) -> Int32
    ) async throws {
        let destroyed = lifecycle.withLock { $0.destroyed }
        guard !destroyed else {
            throw AdapterError(.invalidState, "The '\(agentType)' adapter has been disposed.")
        }
        let id = context.nextRequestID()
        let limit = timeout ?? callTimeout
        let timer = Task { [context] in
            do { try await Task.sleep(for: limit) } catch { return }
            _ = context.timeOut(id, after: limit)
        }
        defer { timer.cancel() }
        let handle = self.handle, context = self.context, pluginName = plugin.fileName
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            context.register(id, name: name, continuation)
            queue.async {
                let rc = call(handle.table, handle.pointer, id)
                context.markReturned(id)
                if rc != SWITCHBOARD_OK {
                    context.complete(id, with: AdapterError(.protocolViolation, "Plugin '\(pluginName)' refused \(name) with code \(rc)."))
                }
            }
        }
    }
}

/// The handle a plugin returned, the token it calls back with, and the descriptor table.
private struct AdapterHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let token: UInt
    let table: switchboard_plugin_descriptor
}

/// Set once, awaited by any number of tasks, each with a deadline.
final class DoneSignal: Sendable {
    private struct State {
        var done = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    init() {}

    var isDone: Bool { state.withLock { $0.done } }

    func signal() {
        let waiters = state.withLock { s in
            s.done = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until ``signal()`` or until the task is cancelled.
    func wait() async {
        let id = state.withLock { s in
            defer { s.next += 1 }
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s in
                    if s.done || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until ``signal()`` or until `limit` passed; whether it was signalled.
    func wait(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
        return isDone
    }
}

/// The one callback every plugin adapter calls; `context` is a token of ``PluginContextTable``.
private let hostEventCallback: switchboard_event_callback = { context, json, length in
    guard let host = PluginContextTable.lookup(UInt(bitPattern: context)) else { return }
    guard let json else {
        host.reject("a NULL event")
        return
    }
    UnsafeRawPointer(json).withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        host.receive(UnsafeBufferPointer(start: bytes, count: length))
    }
}
