import SwitchboardAdapterAPI
import Synchronization

/// The host's side of an adapter whose plugin runs in a helper process (isolation
/// `process`): the same ``AgentAdapter`` as ``PluginAdapter``, with every call framed over
/// the helper's socket and every event decoded here.
///
/// The adapter is created in the helper at ``start(_:)``, so nothing waits on the plugin
/// before that. When the helper dies, the session hears an error naming the plugin, the
/// cause and the call (`plugin 'crashy' crashed (SIGSEGV) while handling send_message`) and
/// its status becomes `error`; the next message starts a fresh helper (through the type's
/// ``PluginIsolation``), creates and starts the adapter again — resuming the agent's session
/// id when there is one — and sends it.
public final class IsolatedPluginAdapter: AgentAdapter {
    /// The agent type served.
    public let agentType: String
    /// The helpers it runs in.
    public let isolation: PluginIsolation
    public var events: AsyncStream<AdapterEvent> { context.events }
    /// The events as a batch queue (read instead of ``events``).
    public var eventQueue: AdapterEventQueue? { context.outlet.queue }

    private struct State {
        /// The helper and this adapter's id in it, once created.
        var helper: PluginHelperProcess?
        var adapterID: UInt64 = 0
        /// What `start` was given, to start again in a new helper.
        var options: StartOptions?
        var model: String?
                var disposed = false
    }

    private let settings: [UInt8]
    private let context: PluginHostContext
    private let state = Mutex(State())
    private let link: Link

    /// An adapter of `isolation`'s plugin with `settings`; nothing runs until ``start(_:)``.
    public init(isolation: PluginIsolation, agentType: String? = nil, settings: JSONValue) {
        self.isolation = isolation
        self.agentType = agentType ?? isolation.agentType
        self.settings = Array(settings.jsonText.utf8)
        let context = PluginHostContext(pluginName: isolation.pluginName)
        self.context = context
        link = Link(context: context)
    }

    deinit {
        // Never waits: the helper forgets the adapter once its destroy returned.
        let (helper, id, disposed) = state.withLock { ($0.helper, $0.adapterID, $0.disposed) }
        if let helper, !disposed { helper.release(adapter: id) }
    }

    /// How many events from the plugin could not be read.
    public var malformedEventCount: Int { context.malformedEventCount }
    public var agentSessionId: String? { context.agentSessionId }
    public var status: SessionStatus { context.status }

    public func start(_ options: StartOptions) async throws {
        state.withLock { s in
            s.options = options
            if s.model == nil { s.model = options.model }
        }
        try await attach()
        try await request(.start, Array(options.jsonText.utf8))
        isolation.startSucceeded()
    }

    public func sendMessage(_ text: String) async throws {
        try await reattachIfLost()
        try await request(.sendMessage, Array(text.utf8))
        if let limit = isolation.timeouts.turn {
            let context = self.context, type = agentType
            context.armTurnTimeout(limit) { [weak self] in
                try? await self?.interrupt()
                context.emit(.error("plugin '\(type)' did not end its turn within \(PluginHostContext.seconds(limit)) s; the host ended it."))
            }
        }
    }

    public func setModel(_ model: String) async throws {
        state.withLock { $0.model = model }
        guard !link.lost.load(ordering: .acquiring) else { return }  // applied when it starts again
        try await request(.setModel, Array(model.utf8))
    }

    public func interrupt() async throws {
        guard !link.lost.load(ordering: .acquiring), state.withLock({ $0.helper != nil }) else { return }
        try await request(.interrupt, [])
    }

    public func answer(_ answer: DecisionAnswer) async throws {
        try await request(.answer, Array(answer.jsonValue.jsonText.utf8))
    }

    public func dispose() async {
        let lost = link.lost.load(ordering: .acquiring)
        let (first, helper, id) = state.withLock { s in
            defer { s.disposed = true }
            return (!s.disposed, s.helper, s.adapterID)
        }
        guard first else { return }
        if let helper, !lost {
            do {
                try await request(.dispose, [], timeout: isolation.timeouts.dispose)
            } catch {
                context.emit(.error("Plugin '\(isolation.pluginName)' did not dispose cleanly: \(error)"))
            }
            await helper.destroy(adapter: id, within: isolation.timeouts.call)
        }
        state.withLock { $0.helper = nil }
        context.close(reason: "The '\(agentType)' adapter was disposed.")
    }

    // MARK: - Helpers

    /// Creates the adapter in the (current or a new) helper.
    private func attach() async throws {
        let helper = try await isolation.helper()
        guard !state.withLock({ $0.disposed }) else {
            throw AdapterError(.invalidState, "The '\(agentType)' adapter has been disposed.")
        }
        let id = try await helper.create(link, settings: settings, within: isolation.timeouts.call)
        link.lost.store(false, ordering: .releasing)
        state.withLock { s in
            s.helper = helper
            s.adapterID = id
        }
    }

    /// After the helper died: a fresh helper, the adapter created and started again.
    private func reattachIfLost() async throws {
        let lost = link.lost.load(ordering: .acquiring)
        let (options, model) = state.withLock { ($0.options, $0.model) }
        guard lost, var options else { return }
        options.agentSessionId = context.agentSessionId ?? options.agentSessionId
        options.model = model
        try await attach()
        try await request(.start, Array(options.jsonText.utf8))
        isolation.startSucceeded()
    }

    private func request(_ op: HelperOp, _ payload: [UInt8], timeout: Duration? = nil) async throws {
        let lost = link.lost.load(ordering: .acquiring)
        let (helper, adapterID, disposed) = state.withLock { ($0.helper, $0.adapterID, $0.disposed) }
        if disposed && op != .dispose { throw AdapterError(.invalidState, "The '\(agentType)' adapter has been disposed.") }
        guard let helper, !lost else {
            throw AdapterError(.agentFailure, state.withLock { $0.helper }?.deathMessage ?? "plugin '\(agentType)' has no helper process; start the session again.")
        }
        let id = context.nextRequestID()
        let limit = timeout ?? isolation.timeouts.call
        let name = op.callName
        let timer = Task { [context] in
            do { try await Task.sleep(for: limit) } catch { return }
            if context.timeOut(id, after: limit) == true { helper.noteStuckCall(name, limit: limit) }
        }
        defer { timer.cancel() }
        let context = self.context
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            context.register(id, name: name, continuation)
            if !helper.call(op, adapter: adapterID, request: id, payload: payload) {
                context.complete(id, with: AdapterError(.agentFailure, helper.deathMessage))
            }
        }
    }

    /// What the helper's reader thread calls: it reaches the context, and the adapter while
    /// it lives.
    private final class Link: HelperLink {
        let context: PluginHostContext
        /// Whether the helper this adapter was created in is gone.
        let lost = Atomic<Bool>(false)

        init(context: PluginHostContext) {
            self.context = context
        }

        func helperEvent(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { context.receive($0) }
        }

        func helperReturned(request: UInt64, code: Int32) {
            context.markReturned(request)
            if code != 0 {
                context.complete(request, with: AdapterError(.protocolViolation, "Plugin '\(context.pluginName)' refused a call with code \(code)."))
            }
        }

        func helperViolation(_ text: String) {
            context.reject(text)
        }

        func helperDied(_ message: String) {
            lost.store(true, ordering: .releasing)
            context.lost(message)
        }
    }
}
