/// Why a plugin file could not be loaded. The message names the file and the reason.
public struct PluginLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public static let fileMissing = Code("fileMissing")
        public static let notSharedObject = Code("notSharedObject")
        public static let openFailed = Code("openFailed")
        public static let missingEntrySymbol = Code("missingEntrySymbol")
        public static let unsupportedABIVersion = Code("unsupportedABIVersion")
        public static let descriptorTooSmall = Code("descriptorTooSmall")
        public static let nullDescriptor = Code("nullDescriptor")
        public static let invalidDescriptor = Code("invalidDescriptor")
        public static let invalidAgentType = Code("invalidAgentType")
        public var description: String { name }
    }

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
