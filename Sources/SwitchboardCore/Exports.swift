// Core's errors (`SessionError`, `SessionStoreError`, `RegistryError`, `PluginLoadError`)
// are the adapter API's one error shape. Re-exporting just that shape lets a file that
// imports SwitchboardCore use those errors' members (`code`, `message`, `init`) without
// importing the adapter API too, as MemberImportVisibility would otherwise require; no
// other adapter API name leaks through.
@_exported import struct SwitchboardAdapterAPI.SwitchboardError
@_exported import struct SwitchboardAdapterAPI.ErrorCode
