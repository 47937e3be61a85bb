import Dispatch
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
    /// The helpers a plugin with isolation `process` runs in; `nil` for inline plugins and
    /// in-process factories.
    public var isolation: PluginIsolation?
    /// The deadlines of the type's calls; for ``AgentRegistry/makeAdapter(for:timeout:)``.
    public var timeouts = PluginTimeouts()

    public init(agentType: String, displayName: String, plugin: LoadedPlugin? = nil, settings: JSONValue = .object([:]), factory: @escaping AgentAdapterFactory) {
        self.agentType = agentType
        self.displayName = displayName
        self.plugin = plugin
        self.settings = settings
        self.factory = factory
    }

    /// Where the type's plugin runs: `process` with a helper, else `inline`.
    public var isolationMode: PluginIsolationMode { isolation == nil ? .inline : .process }
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

    /// Registers a plugin loaded into this process, with the type's deadlines.
    public func register(plugin: LoadedPlugin, as agentType: String? = nil, settings: JSONValue = .object([:]), timeouts: PluginTimeouts) throws(RegistryError) {
        let served = agentType ?? plugin.agentType
        var registration = AgentRegistration(
            agentType: served, displayName: plugin.displayName, plugin: plugin, settings: settings,
            factory: { settings throws(AdapterError) in
                try PluginAdapter(plugin: plugin, agentType: served, settings: settings, disposeTimeout: timeouts.dispose,
                                  callTimeout: timeouts.call, turnTimeout: timeouts.turn)
            }
        )
        registration.timeouts = timeouts
        try register(registration)
    }

    /// Registers a plugin that runs in helper processes (isolation `process`).
    /// - Parameter plugin: what the probe read from the file (see ``PluginProbe``).
    public func register(isolated isolation: PluginIsolation, plugin: LoadedPlugin, settings: JSONValue = .object([:])) throws(RegistryError) {
        let served = isolation.agentType
        var registration = AgentRegistration(
            agentType: served, displayName: plugin.displayName, plugin: plugin, settings: settings,
            factory: { settings in IsolatedPluginAdapter(isolation: isolation, agentType: served, settings: settings) }
        )
        registration.isolation = isolation
        registration.timeouts = isolation.timeouts
        try register(registration)
    }

    /// Stops every plugin helper (after the sessions were disposed).
    public func shutDownHelpers(within limit: Duration = .seconds(5)) async {
        let isolations = entries.withLock { $0.values.compactMap(\.isolation) }
        await withTaskGroup(of: Void.self) { group in
            for isolation in isolations { group.addTask { await isolation.shutDown(within: limit) } }
        }
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

    /// Makes an adapter as ``makeAdapter(for:)`` does, but on a thread of its own — never on
    /// the caller's actor or Swift's cooperative pool — and within `timeout` (the type's
    /// call deadline by default): a plugin's `create` that blocks fails the start and holds
    /// only that thread. An adapter that arrives after the deadline is dropped (destroyed).
    public func makeAdapter(for agentType: String, timeout: Duration?) async throws -> any AgentAdapter {
        guard let registration = registration(for: agentType) else {
            return try makeAdapter(for: agentType)  // throws the unknown-type error
        }
        let limit = timeout ?? registration.timeouts.call
        let outcome = OffThreadCall<any AgentAdapter>()
        DispatchQueue(label: "switchboard.create.\(agentType)").async {
            outcome.finish(Result { try registration.factory(registration.settings) })
        }
        guard let result = await outcome.value(within: limit) else {
            throw AdapterError(.protocolViolation, "Plugin for '\(agentType)' did not return from create within \(PluginHostContext.seconds(limit)) s; the session was not started.")
        }
        return try result.get()
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

/// The result of work done on another thread, awaited with a deadline.
final class OffThreadCall<Value>: @unchecked Sendable {
    // `Value` crosses threads once, under the lock (adapters are Sendable).
    private nonisolated(unsafe) var result: Result<Value, any Error>?
    private let lock = Mutex(())
    private let done = DoneSignal()

    func finish(_ result: Result<Value, any Error>) {
        lock.withLock { _ in self.result = result }
        done.signal()
    }

    func value(within limit: Duration) async -> Result<Value, any Error>? {
        guard await done.wait(within: limit) else { return nil }
        return lock.withLock { _ in result }
    }
}
