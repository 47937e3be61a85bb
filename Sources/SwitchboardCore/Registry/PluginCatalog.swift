import SwitchboardAdapterAPI

/// The plugins a configuration names or a plugin directory holds, loaded into a registry,
/// with a line of status for each — what `switchboard agents` prints.
///
/// Rules:
/// - Every `*.so` in the plugin directories is loaded; each serves the agent type it
///   declares, with the settings of `agents.<type>` when the config has them. A plugin that
///   serves configured types (``LoadedPlugin/servesConfiguredTypes``, a bridge such as the
///   ACP plugin) serves its declared type only when the config has an entry for it, and is
///   listed as not used otherwise: without settings it has no agent to run.
/// - `agents.<type>.plugin` names the file for a type explicitly. That file serves `<type>`
///   whatever type it declares (this is how a test swaps `claude` for the scripted plugin),
///   and it wins over any other file that declares `<type>`.
/// - Two files in the directories that declare one type, with no `agents.<type>.plugin`
///   to choose, are both refused: which one serves must not depend on the order of a scan.
/// - A file that fails to load is listed with its reason; the others carry on. A shared
///   library in a scanned directory that exports no entry symbol is not a plugin and is
///   passed over.
public struct PluginCatalog: Sendable {
    /// One line of the catalog.
    public struct Entry: Sendable, Hashable {
        /// What became of the file.
        public enum Status: Sendable, Hashable {
            /// It serves `agentType`.
            case loaded
            /// It loaded, but the config chose another file for its type.
            case superseded(String)
            /// It could not be used.
            case failed(String)
        }

        /// The agent type served (or claimed); `nil` when the file did not load far enough to say.
        public var agentType: String?
        /// The plugin file.
        public var path: String
        /// The loaded plugin, when it loaded.
        public var plugin: LoadedPlugin?
        /// What became of it.
        public var status: Status
        /// Where it runs, once loaded.
        public var isolation: PluginIsolationMode = .inline

        public init(agentType: String?, path: String, plugin: LoadedPlugin?, status: Status, isolation: PluginIsolationMode = .inline) {
            self.agentType = agentType
            self.path = path
            self.plugin = plugin
            self.status = status
            self.isolation = isolation
        }

        /// Whether this entry is a failure.
        public var isFailure: Bool {
            if case .failed = status { return true }
            return false
        }
    }

    /// The registry holding every agent type that loaded.
    public let registry: AgentRegistry
    /// One entry per plugin file and agent type, sorted by type then path.
    public let entries: [Entry]

    /// Whether any plugin failed.
    public var hasFailures: Bool { entries.contains(where: \.isFailure) }

    /// Loads every plugin the configuration names or its directories hold.
    ///
    /// A type whose `isolation` is `process` is probed and run in helpers started from
    /// `helperExecutable` (``PluginIsolation/defaultExecutable`` by default); its file is
    /// never opened in this process.
    public static func load(_ config: SwitchboardConfig, into registry: AgentRegistry = AgentRegistry(), helperExecutable: String? = nil) -> PluginCatalog {
        var entries: [Entry] = []
        let helper = helperExecutable ?? PluginIsolation.defaultExecutable
        let probeFirst = SwitchboardConfig.defaultIsolation == .process
            || config.agents.values.contains { $0.plugin == nil && $0.effectiveIsolation == .process }
        // Explicit choices first: `agents.<type>.plugin`.
        var chosenTypes: [String: String] = [:]  // type -> path as written
        for (type, agent) in config.agents.sorted(by: { $0.key < $1.key }) {
            guard let path = agent.plugin else { continue }
            chosenTypes[type] = agent.pluginAsWritten ?? path
            do {
                let plugin = try register(path, as: type, agent: agent, helper: helper, into: registry)
                entries.append(Entry(agentType: type, path: path, plugin: plugin, status: .loaded, isolation: agent.effectiveIsolation))
            } catch {
                entries.append(Entry(agentType: type, path: path, plugin: nil, status: .failed(String(describing: error))))
            }
        }

        // Then whatever the directories hold, grouped by declared type.
        var byType: [String: [LoadedPlugin]] = [:]
        var seen: Set<String> = []
        for directory in config.pluginDirectories {
            guard let names = FilePaths.contents(of: directory) else {
                entries.append(Entry(agentType: nil, path: directory, plugin: nil, status: .failed("Plugin directory '\(directory)' cannot be read.")))
                continue
            }
            for name in names where name.hasSuffix(".so") {
                let path = FilePaths.join(directory, name)
                let key = PluginLoader.canonicalPath(path) ?? path
                guard seen.insert(key).inserted else { continue }
                do {
                    // A file may serve a type that runs in a helper: read it in a probe first,
                    // so a constructor that crashes never runs in this process.
                    let plugin = probeFirst ? try PluginProbe.probe(path, executable: helper) : try PluginLoader.load(path)
                    byType[plugin.agentType, default: []].append(plugin)
                } catch where error.code == .missingEntrySymbol {
                    // A shared library that is no plugin at all (a dependency's .so next to the
                    // executable, say) is not a failure of a directory scan; named in
                    // `agents.<type>.plugin` it is.
                    continue
                } catch {
                    entries.append(Entry(agentType: nil, path: path, plugin: nil, status: .failed(error.message)))
                }
            }
        }
        for (type, plugins) in byType.sorted(by: { $0.key < $1.key }) {
            if let chosen = chosenTypes[type] {
                for plugin in plugins where !entries.contains(where: { $0.plugin == plugin && $0.agentType == type }) {
                    entries.append(Entry(agentType: type, path: plugin.path, plugin: plugin,
                                         status: .superseded("agents.\(type).plugin chose '\(chosen)'")))
                }
                continue
            }
            guard plugins.count == 1, let plugin = plugins.first else {
                let files = plugins.map { "'\($0.path)'" }.joined(separator: " and ")
                for plugin in plugins {
                    entries.append(Entry(agentType: type, path: plugin.path, plugin: plugin, status: .failed(
                        "Agent type '\(type)' is claimed by \(files); choose one with agents.\(type).plugin in the config."
                    )))
                }
                continue
            }
            if plugin.servesConfiguredTypes && config.agents[type] == nil {
                entries.append(Entry(agentType: type, path: plugin.path, plugin: plugin, status: .superseded(
                    "it serves the agent types the config names it for with agents.<type>.plugin"
                )))
                continue
            }
            do {
                let agent = config.agent(type)
                let loaded = try register(plugin.path, as: type, agent: agent, helper: helper, into: registry, probed: plugin)
                entries.append(Entry(agentType: type, path: plugin.path, plugin: loaded, status: .loaded, isolation: agent.effectiveIsolation))
            } catch {
                entries.append(Entry(agentType: type, path: plugin.path, plugin: plugin, status: .failed(String(describing: error))))
            }
        }

        // Config entries that nothing serves.
        for type in config.agents.keys.sorted() where config.agents[type]?.plugin == nil && byType[type] == nil {
            entries.append(Entry(agentType: type, path: "", plugin: nil, status: .failed(
                "agents.\(type): no plugin in the plugin directories serves agent type '\(type)'; name one with agents.\(type).plugin."
            )))
        }
        entries.sort { ($0.agentType ?? "~", $0.path) < ($1.agentType ?? "~", $1.path) }
        return PluginCatalog(registry: registry, entries: entries)
    }

    /// Registers `path` for `type` inline (loaded here) or isolated (probed, run in helpers).
    private static func register(
        _ path: String, as type: String, agent: SwitchboardConfig.Agent, helper: String, into registry: AgentRegistry, probed: LoadedPlugin? = nil
    ) throws -> LoadedPlugin {
        switch agent.effectiveIsolation {
        case .inline:
            let plugin = try PluginLoader.load(path)
            try registry.register(plugin: plugin, as: type, settings: agent.settings, timeouts: agent.timeouts)
            return plugin
        case .process:
            let plugin = try probed ?? PluginProbe.probe(path, executable: helper)
            let isolation = PluginIsolation(agentType: type, pluginPath: path, executable: helper, timeouts: agent.timeouts)
            try registry.register(isolated: isolation, plugin: plugin, settings: agent.settings)
            return plugin
        }
    }
}
