import SwitchboardAdapterAPI

/// The domain of ``PluginLoadError``: why a plugin file could not be loaded.
public enum PluginLoadErrorDomain {}

/// Why a plugin file could not be loaded. The message names the file and the reason.
public typealias PluginLoadError = SwitchboardError<PluginLoadErrorDomain>

extension ErrorCode where Domain == PluginLoadErrorDomain {
    /// No file at the path.
    public static var fileMissing: Self { Self("fileMissing") }
    /// The file is not an ELF shared object.
    public static var notSharedObject: Self { Self("notSharedObject") }
    /// `dlopen` refused it.
    public static var openFailed: Self { Self("openFailed") }
    /// It exports no `switchboard_plugin_v1`.
    public static var missingEntrySymbol: Self { Self("missingEntrySymbol") }
    /// It speaks another major ABI version.
    public static var unsupportedABIVersion: Self { Self("unsupportedABIVersion") }
    /// Its descriptor is smaller than the v1 layout.
    public static var descriptorTooSmall: Self { Self("descriptorTooSmall") }
    /// Its entry function returned NULL.
    public static var nullDescriptor: Self { Self("nullDescriptor") }
    /// Its descriptor lacks a function.
    public static var invalidDescriptor: Self { Self("invalidDescriptor") }
    /// Its agent type is missing or not a valid name.
    public static var invalidAgentType: Self { Self("invalidAgentType") }
    /// A Swift plugin built with another Swift compiler version than the host's: Swift on
    /// Linux has no stable ABI, so the two must match exactly.
    public static var toolchainMismatch: Self { Self("toolchainMismatch") }
}
