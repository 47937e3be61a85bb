import SwitchboardAdapterAPI

/// Why a plugin file could not be loaded. The message names the file and the reason.
public struct PluginLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; new codes may be added.
    public typealias Code = ErrorCode<PluginLoadError>

    /// The kind of failure.
    public var code: Code
    /// The plugin file as it was named.
    public var path: String
    /// A full sentence naming the file and the reason.
    public var message: String

    public init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == PluginLoadError {
    public static var fileMissing: Self { Self("fileMissing") }
    public static var notSharedObject: Self { Self("notSharedObject") }
    public static var openFailed: Self { Self("openFailed") }
    public static var missingEntrySymbol: Self { Self("missingEntrySymbol") }
    public static var unsupportedABIVersion: Self { Self("unsupportedABIVersion") }
    public static var descriptorTooSmall: Self { Self("descriptorTooSmall") }
    public static var nullDescriptor: Self { Self("nullDescriptor") }
    public static var invalidDescriptor: Self { Self("invalidDescriptor") }
    public static var invalidAgentType: Self { Self("invalidAgentType") }
}
