import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The plugin's entry symbol: the one declaration the host looks for.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "echo", displayName: "Echo agent (example)", version: "1.0.0")
    ) { settings in try EchoAgent(settings: settings) }
}
