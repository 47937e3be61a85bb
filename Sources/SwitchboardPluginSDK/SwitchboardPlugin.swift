import CSwitchboardABI
import SwitchboardAdapterAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a plugin says about itself in its descriptor.
public struct PluginInfo: Sendable {
    /// The agent type it serves, e.g. `claude`: lowercase letters, digits, `.`, `_`, `-`.
    public var agentType: String
    /// A name for people, e.g. `Claude Code`.
    public var displayName: String
    /// The plugin's own version.
    public var version: String
    /// The toolchain that built it; defaults to the Swift compiler's full version
    /// (``swiftToolchain``). A host refuses a Swift plugin whose toolchain differs from its
    /// own, so leave the default.
    public var toolchain: String
    /// Whether the plugin serves whichever agent types the config names it for
    /// (`agents.<type>.plugin`) rather than only ``agentType``, which then names the family
    /// of agents it bridges (`SWITCHBOARD_PLUGIN_CONFIGURED_TYPES`). Each adapter learns its
    /// type from ``StartOptions/agentType``.
    public var servesConfiguredTypes: Bool

    public init(agentType: String, displayName: String, version: String, toolchain: String = PluginInfo.swiftToolchain,
                servesConfiguredTypes: Bool = false) {
        self.agentType = agentType
        self.displayName = displayName
        self.version = version
        self.toolchain = toolchain
        self.servesConfiguredTypes = servesConfiguredTypes
    }

    /// The Swift compiler this plugin was compiled with, e.g. `Swift 6.3.1`: the same
    /// ``SwiftToolchain/current`` the host compares it with.
    public static var swiftToolchain: String { SwiftToolchain.current }
}

/// Exports a Swift ``AgentAdapter`` through the Switchboard C ABI.
///
/// A plugin needs exactly one declaration:
///
/// ```swift
/// @_cdecl("switchboard_plugin_v1")
/// public func switchboardPluginV1() -> UnsafeRawPointer {
///     SwitchboardPlugin.export(
///         PluginInfo(agentType: "echo", displayName: "Echo", version: "1.0.0")
///     ) { settings in try EchoAdapter(settings: settings) }
/// }
/// ```
///
/// The SDK does the rest: it parses settings and start options, runs each request on a
/// task and reports its completion, turns the adapter's events into JSON for the host, and
/// guarantees that no callback reaches the host after `destroy` returns.
public enum SwitchboardPlugin {
    private struct Registration: @unchecked Sendable {
        // The descriptor and its strings live for the life of the process (never dlclosed).
        let descriptor: UnsafeMutablePointer<switchboard_plugin_descriptor>
        let factory: AgentAdapterFactory
    }

    private static let registration = Mutex<Registration?>(nil)

    /// Returns this plugin's descriptor, building it on the first call.
    ///
    /// Later calls return the same pointer; the `info` and `factory` of the first call win.
    public static func export(_ info: PluginInfo, factory: @escaping AgentAdapterFactory) -> UnsafeRawPointer {
        registration.withLock { existing in
            if let existing { return UnsafeRawPointer(existing.descriptor) }
            let d = UnsafeMutablePointer<switchboard_plugin_descriptor>.allocate(capacity: 1)
            d.initialize(to: switchboard_plugin_descriptor(
                abi_version: UInt32(SWITCHBOARD_ABI_VERSION),
                struct_size: UInt32(MemoryLayout<switchboard_plugin_descriptor>.size),
                agent_type: UnsafePointer(strdup(info.agentType)),
                display_name: UnsafePointer(strdup(info.displayName)),
                plugin_version: UnsafePointer(strdup(info.version)),
                toolchain: UnsafePointer(strdup(info.toolchain)),
                create: createThunk,
                start: startThunk,
                send_message: sendThunk,
                set_model: setModelThunk,
                interrupt: interruptThunk,
                dispose: disposeThunk,
                destroy: destroyThunk,
                free_buffer: { free($0) },
                answer: answerThunk,
                plugin_flags: info.servesConfiguredTypes ? SWITCHBOARD_PLUGIN_CONFIGURED_TYPES : 0
            ))
            existing = Registration(descriptor: d, factory: factory)
            return UnsafeRawPointer(d)
        }
    }

    static var factory: AgentAdapterFactory? {
        registration.withLock { $0?.factory }
    }
}

// MARK: - The C entry points

private func bridge(_ handle: OpaquePointer?) -> AdapterBridge? {
    guard let handle else { return nil }
    return Unmanaged<AdapterBridge>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

private func text(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> String {
    guard let pointer, length > 0 else { return "" }
    return UnsafeRawPointer(pointer).withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
}

private let createThunk: @convention(c) (
    UnsafePointer<CChar>?, Int, switchboard_event_callback?, UnsafeMutableRawPointer?,
    UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 = { settingsPointer, settingsLength, callback, context, outAdapter, outError in
    // The host reports every create failure as `invalidSettings`, with this message.
    func fail(_ message: String) -> Int32 {
        outError?.pointee = strdup(message)
        return SWITCHBOARD_ERR_INVALID_ARGUMENT
    }
    guard let callback, let outAdapter else { return fail("create was called without a callback or an out-pointer") }
    guard let factory = SwitchboardPlugin.factory else { return fail("the plugin was not exported") }
    let settings: JSONValue
    if settingsPointer == nil || settingsLength == 0 {
        settings = .object([:])
    } else {
        do {
            settings = try UnsafeRawPointer(settingsPointer!).withMemoryRebound(to: UInt8.self, capacity: settingsLength) { p throws(JSONError) in
                try JSONValue(parsing: UnsafeBufferPointer(start: p, count: settingsLength))
            }
        } catch {
            return fail("settings are not valid JSON: \(error)")
        }
    }
    let adapter: any AgentAdapter
    do {
        adapter = try factory(settings)
    } catch let error as AdapterError {
        return fail(error.message)
    } catch {
        return fail(String(describing: error))
    }
    let sink = EventSink(callback: callback, context: context)
    let b = AdapterBridge(adapter: adapter, sink: sink)
    outAdapter.pointee = OpaquePointer(Unmanaged.passRetained(b).toOpaque())
    return SWITCHBOARD_OK
}

private let startThunk: @convention(c) (OpaquePointer?, UInt64, UnsafePointer<CChar>?, Int) -> Int32 = { handle, request, json, length in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    let options: StartOptions
    do {
        guard let json else { throw JSONError(offset: 0, reason: "no start options were given") }
        options = try UnsafeRawPointer(json).withMemoryRebound(to: UInt8.self, capacity: length) { p throws(JSONError) in
            try StartOptions(jsonBytes: UnsafeBufferPointer(start: p, count: length))
        }
    } catch {
        b.sink.deliver(.failed(request: request, error: AdapterError(.protocolViolation, "start options are not valid: \(error)")))
        return SWITCHBOARD_OK
    }
    // A host that predates decisions would reject an `ask` event: nobody to ask then.
    (b.adapter as? any ChannelBackedAdapter)?.eventChannel.hostAnswersDecisions = options.answersDecisions
    return b.perform(request) { try await $0.start(options) }
}

private let sendThunk: @convention(c) (OpaquePointer?, UInt64, UnsafePointer<CChar>?, Int) -> Int32 = { handle, request, pointer, length in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    let message = text(pointer, length)
    return b.perform(request) { try await $0.sendMessage(message) }
}

private let setModelThunk: @convention(c) (OpaquePointer?, UInt64, UnsafePointer<CChar>?, Int) -> Int32 = { handle, request, pointer, length in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    let model = text(pointer, length)
    return b.perform(request) { try await $0.setModel(model) }
}

private let interruptThunk: @convention(c) (OpaquePointer?, UInt64) -> Int32 = { handle, request in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    return b.perform(request) { try await $0.interrupt() }
}

private let answerThunk: @convention(c) (OpaquePointer?, UInt64, UnsafePointer<CChar>?, Int) -> Int32 = { handle, request, json, length in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    let answer: DecisionAnswer
    do {
        guard let json else { throw JSONError(offset: 0, reason: "no answer was given") }
        answer = try UnsafeRawPointer(json).withMemoryRebound(to: UInt8.self, capacity: length) { p throws(JSONError) in
            try DecisionAnswer(json: JSONValue(parsing: UnsafeBufferPointer(start: p, count: length)))
        }
    } catch {
        b.sink.deliver(.failed(request: request, error: AdapterError(.protocolViolation, "the answer is not valid: \(error)")))
        return SWITCHBOARD_OK
    }
    return b.perform(request) { try await $0.answer(answer) }
}

private let disposeThunk: @convention(c) (OpaquePointer?, UInt64) -> Int32 = { handle, request in
    guard let b = bridge(handle) else { return SWITCHBOARD_ERR_INVALID_HANDLE }
    b.dispose(request: request)
    return SWITCHBOARD_OK
}

private let destroyThunk: @convention(c) (OpaquePointer?) -> Void = { handle in
    guard let handle else { return }
    let b = Unmanaged<AdapterBridge>.fromOpaque(UnsafeRawPointer(handle)).takeRetainedValue()
    b.destroy()
}
