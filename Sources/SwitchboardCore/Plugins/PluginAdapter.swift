import CSwitchboardABI
import SwitchboardAdapterAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The host's side of an adapter that lives in a plugin: an ``AgentAdapter`` that forwards
/// every call through the plugin's C descriptor and turns the JSON events it sends back
/// into ``AdapterEvent``s.
///
/// A plugin that misbehaves — sends malformed JSON, completes a request it was never given,
/// never answers `dispose` — produces error events on this adapter only; the host and the
/// other adapters carry on.
public final class PluginAdapter: AgentAdapter {
    /// The plugin this adapter came from.
    public let plugin: LoadedPlugin
    /// The agent type this adapter serves (the config may map any type to a plugin).
    public let agentType: String
    /// How long `dispose` may take before the adapter is destroyed anyway.
    public let disposeTimeout: Duration

    public let events: AsyncStream<AdapterEvent>
    private let context: PluginHostContext
    private let handle: AdapterHandle
    /// Serialises calls into the plugin for this adapter, as the ABI asks.
    private let callLock = Mutex(())
    private let lifecycle = Mutex((disposed: false, destroyed: false))

    /// Creates an adapter instance inside the plugin with the given settings.
    /// - Throws: ``AdapterError`` with the plugin's own reason when `create` fails.
    /// - Parameter agentType: the type it serves; the plugin's declared type by default.
    public init(plugin: LoadedPlugin, agentType: String? = nil, settings: JSONValue, disposeTimeout: Duration = .seconds(30)) throws(AdapterError) {
        self.plugin = plugin
        self.agentType = agentType ?? plugin.agentType
        self.disposeTimeout = disposeTimeout
        let context = PluginHostContext(pluginName: plugin.fileName)
        self.context = context
        self.events = context.events
        let d = plugin.descriptor.table
        let settingsText = settings.jsonText
        let retained = Unmanaged.passRetained(context)
        var out: OpaquePointer?
        var error: UnsafeMutablePointer<CChar>?
        let rc = settingsText.withCString { pointer in
            d.create!(pointer, strlen(pointer), hostEventCallback, retained.toOpaque(), &out, &error)
        }
        var reason: String?
        if let error {
            reason = String(cString: error)
            d.free_buffer!(error)
        }
        guard rc == SWITCHBOARD_OK, let out else {
            retained.release()
            let why = reason ?? (rc == SWITCHBOARD_OK ? "it returned no adapter" : "it returned code \(rc) without a reason")
            throw AdapterError(.invalidSettings, "Plugin '\(plugin.fileName)' could not create an adapter for '\(self.agentType)': \(why)")
        }
        handle = AdapterHandle(pointer: out, context: retained)
    }

    deinit {
        destroyNow()
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
        guard plugin.descriptor.table.answer != nil else {
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
        destroyNow()
    }

    /// Calls `destroy` once, then releases the callback context and fails what is pending.
    private func destroyNow() {
        let shouldDestroy = lifecycle.withLock { state in
            defer { state.destroyed = true }
            return !state.destroyed
        }
        guard shouldDestroy else { return }
        callLock.withLock { _ in plugin.descriptor.table.destroy!(handle.pointer) }
        // No callback can arrive after destroy returned, so the context may go.
        context.close(reason: "The '\(agentType)' adapter was disposed.")
        handle.context.release()
    }

    private func request(
        _ name: String,
        timeout: Duration? = nil,
        _ call: (switchboard_plugin_descriptor, OpaquePointer, UInt64) -> Int32
    ) async throws {
        let destroyed = lifecycle.withLock { $0.destroyed }
        guard !destroyed else {
            throw AdapterError(.invalidState, "The '\(agentType)' adapter has been disposed.")
        }
        let id = context.nextRequestID()
        let timer: Task<Void, Never>? = timeout.map { limit in
            Task { [context, plugin] in
                do { try await Task.sleep(for: limit) } catch { return }
                context.complete(id, with: AdapterError(
                    .protocolViolation,
                    "Plugin '\(plugin.fileName)' did not answer \(name) within \(limit)."
                ))
            }
        }
        defer { timer?.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            context.register(id, continuation)
            let rc = callLock.withLock { _ in
                call(plugin.descriptor.table, handle.pointer, id)
            }
            if rc != SWITCHBOARD_OK {
                context.complete(id, with: AdapterError(
                    .protocolViolation,
                    "Plugin '\(plugin.fileName)' refused \(name) with code \(rc)."
                ))
            }
        }
    }
}

/// The handle a plugin returned, and the retained context it calls back with.
private struct AdapterHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let context: Unmanaged<PluginHostContext>
}

/// The one callback every plugin adapter calls; `context` is a ``PluginHostContext``.
private let hostEventCallback: switchboard_event_callback = { context, json, length in
    guard let context else { return }
    let host = Unmanaged<PluginHostContext>.fromOpaque(context).takeUnretainedValue()
    guard let json else {
        host.reject("a NULL event")
        return
    }
    UnsafeRawPointer(json).withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        host.receive(UnsafeBufferPointer(start: bytes, count: length))
    }
}
