import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The Codex backend's placeholder: it loads and registers the agent type `codex`, and
/// refuses to start with a clear error, so a config can name Codex today and get an honest
/// answer instead of a crash.
final class CodexPlaceholderAdapter: ChannelBackedAdapter {
    static let notImplemented = AdapterError(.notImplemented, "Codex adapter not yet implemented")

    let eventChannel = AdapterEventChannel()

    /// The placeholder takes no settings: anything but `{}` is refused, so a config written
    /// for a future Codex adapter fails loudly instead of being silently ignored.
    init(settings: JSONValue) throws(AdapterError) {
        _ = try SettingsReader(settings, known: [])
    }

    func start(_ options: StartOptions) async throws { throw Self.notImplemented }
    func sendMessage(_ text: String) async throws { throw Self.notImplemented }
    func setModel(_ model: String) async throws {}
    func interrupt() async throws {}
    func dispose() async { eventChannel.finish() }
}

/// The plugin's entry symbol.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "codex", displayName: "Codex (placeholder)", version: "0.1.0")
    ) { settings in try CodexPlaceholderAdapter(settings: settings) }
}
