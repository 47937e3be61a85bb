import SwitchboardAdapterAPI
import Synchronization

/// One agent type the registry can make adapters for.
public struct AgentRegistration: Sendable {
    /// The agent type, e.g. `claude`.
    public var agentType: String
    /// A name for people.
    public var displayName: String
    /// The plugin serving it; `nil` for a factory registered in-process.
    public var plugin: LoadedPlugin?
    /// The settings handed to the factory.
    public var settings: JSONValue
    /// Makes one adapter.
    public var factory: AgentAdapterFactory

    public init(agentType: String, displayName: String, plugin: LoadedPlugin? = nil, settings: JSONValue = .object([:]), factory: @escaping AgentAdapterFactory) {
        self.agentType = agentType
        self.displayName = displayName
        self.plugin = plugin
        self.settings = settings
        self.factory = factory
    }
}

/// Maps agent type names to adapter factories, from plugins or registered in-process.
///
/// The registry is an ordinary value the owner creates and passes along (as
/// `Logger(label:factory:)` bypasses swift-log's global one): tests build their own and
/// inject fakes, nothing global leaks between them.
public final class AgentRegistry: Sendable {
    private let entries = Mutex<[String: AgentRegistration]>([:])

    /// An empty registry.
    public init() {}

    /// Registers (or replaces) a factory for an agent type.
    /// - Throws: ``RegistryError`` when the name is not a valid agent type.
    public func register(_ registration: AgentRegistration) throws(RegistryError) {
        if let problem = AgentTypeName.problem(with: registration.agentType) {
            throw RegistryError(.invalidAgentType, "Cannot register agent type: \(problem).")
        }
        entries.withLock { $0[registration.agentType] = registration }
    }

    /// Registers an in-process factory.
    public func register(agentType: String, displayName: String? = nil, settings: JSONValue = .object([:]), factory: @escaping AgentAdapterFactory) throws(RegistryError) {
        try register(AgentRegistration(agentType: agentType, displayName: displayName ?? agentType, settings: settings, factory: factory))
    }

    /// Registers a loaded plugin under `agentType` (its own declared type by default).
    public func register(plugin: LoadedPlugin, as agentType: String? = nil, settings: JSONValue = .object([:])) throws(RegistryError) {
        let served = agentType ?? plugin.agentType
        try register(AgentRegistration(
            agentType: served,
            displayName: plugin.displayName,
            plugin: plugin,
            settings: settings,
            factory: { settings throws(AdapterError) in try PluginAdapter(plugin: plugin, agentType: served, settings: settings) }
        ))
    }

    /// The registered agent types, sorted.
    public var agentTypes: [String] {
        entries.withLock { $0.keys.sorted() }
    }

    /// The registration for a type, if any.
    public func registration(for agentType: String) -> AgentRegistration? {
        entries.withLock { $0[agentType] }
    }

    /// Makes an adapter for `agentType` with its registered settings.
    /// - Throws: ``RegistryError`` for an unknown type (listing the known ones), or the
    ///   factory's own error.
    public func makeAdapter(for agentType: String) throws -> any AgentAdapter {
        guard let registration = registration(for: agentType) else {
            let known = agentTypes
            let list = known.isEmpty ? "none are registered" : "known types: \(known.joined(separator: ", "))"
            throw RegistryError(.unknownAgentType, "Unknown agent type '\(agentType)' (\(list)).")
        }
        return try registration.factory(registration.settings)
    }
}

/// The domain of ``RegistryError``: failures of the agent registry.
public enum RegistryErrorDomain {}

/// A registry failure.
public typealias RegistryError = SwitchboardError<RegistryErrorDomain>

extension ErrorCode where Domain == RegistryErrorDomain {
    /// No registration serves the agent type.
    public static var unknownAgentType: Self { Self("unknownAgentType") }
    /// The agent type is not a valid name.
    public static var invalidAgentType: Self { Self("invalidAgentType") }
}
