import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The plugin's entry symbol: agent type `claude`, served by ``ClaudeAgent``.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "claude", displayName: "Claude Code", version: "1.0.0")
    ) { settings in ClaudeAgent(settings: try ClaudeSettings(json: settings)) }
}
