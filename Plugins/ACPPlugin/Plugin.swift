import ACPAdapter
import SwitchboardPluginSDK

// The entry symbol lives in a target of its own, so the adapter's code can be linked into a
// test binary next to other plugins without two `switchboard_plugin_v1` definitions.

/// The plugin's entry symbol.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(ACPPluginExport.info, factory: ACPPluginExport.factory)
}
