import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The Codex backend's placeholder: it loads and registers the agent type `codex`, and
/// refuses to start with a clear error, so a config can name Codex today and get an honest
/// answer instead of a crash.
final class CodexPlaceholderAdapter: ChannelBackedAdapter {
    static let notImplemented = AdapterError(.notImplemented, "Codex adapter not yet implemented")

    private let channel = AdapterEventChannel()

    /// The placeholder takes no settings: anything but `{}` is refused, so a config written
    /// for a future Codex adapter fails loudly instead of being silently ignored.
    init(settings: JSONValue) throws(AdapterError) {
        guard let object = settings.objectValue else {
            throw AdapterError(.invalidSettings, "settings must be an object, not \(settings.kindDescription)")
        }
        if let key = object.keys.sorted().first {
            throw AdapterError(.invalidSettings, "settings.\(key): unknown setting (the Codex placeholder takes none)")
        }
    }

    var events: AsyncStream<AdapterEvent> { channel.events }
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    func start(_ options: StartOptions) async throws { throw Self.notImplemented }
    func sendMessage(_ text: String) async throws { throw Self.notImplemented }
    func setModel(_ model: String) async throws {}
    func interrupt() async throws {}
    func dispose() async { channel.finish() }
}

/// The plugin's entry symbol.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "codex", displayName: "Codex (placeholder)", version: "0.1.0")
    ) { settings in try CodexPlaceholderAdapter(settings: settings) }
}
