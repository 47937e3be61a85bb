import SwitchboardAdapterAPI

/// The operator's config file: which plugin serves which agent type, with what settings,
/// and the manager's own limits. See `Docs/Configuration.md` for a complete example.
///
/// Paths in the file are relative to the file's own directory; `~` means `$HOME`.
public struct SwitchboardConfig: Sendable, Hashable {
    /// One agent type's entry.
    public struct Agent: Sendable, Hashable {
        /// The plugin file serving this type, resolved; `nil` to use the plugin found in the
        /// plugin directories that declares this type.
        public var plugin: String?
        /// The plugin file as written in the config, for messages.
        public var pluginAsWritten: String?
        /// The plugin's settings, passed to its `create` untouched.
        public var settings: JSONValue
        /// Where the plugin runs (`isolation`); `nil`: ``SwitchboardConfig/defaultIsolation``.
        public var isolation: PluginIsolationMode?
        /// How long one plugin call may take (`callTimeoutSeconds`).
        public var callTimeoutSeconds: Int = SwitchboardConfig.defaultCallTimeoutSeconds
        /// How long one turn may run before the host ends it (`turnTimeoutSeconds`).
        public var turnTimeoutSeconds: Int = SwitchboardConfig.defaultTurnTimeoutSeconds

        public init(plugin: String? = nil, pluginAsWritten: String? = nil, settings: JSONValue = .object([:])) {
            self.plugin = plugin
            self.pluginAsWritten = pluginAsWritten ?? plugin
            self.settings = settings
        }

        /// The isolation in force.
        public var effectiveIsolation: PluginIsolationMode { isolation ?? SwitchboardConfig.defaultIsolation }

        /// The deadlines in force.
        public var timeouts: PluginTimeouts {
            PluginTimeouts(call: .seconds(callTimeoutSeconds), dispose: .seconds(callTimeoutSeconds), turn: .seconds(turnTimeoutSeconds))
        }
    }

    /// Where plugins run when their entry names no `isolation` (see Docs/Architecture.md,
    /// "Isolation", for the measurement that chose it).
    public static let defaultIsolation: PluginIsolationMode = .inline
    /// The default `callTimeoutSeconds`.
    public static let defaultCallTimeoutSeconds = 30
    /// The values `callTimeoutSeconds` may take.
    public static let callTimeoutSecondsRange = 1...3600
    /// The default `turnTimeoutSeconds` (one hour).
    public static let defaultTurnTimeoutSeconds = 3600
    /// The values `turnTimeoutSeconds` may take (up to a day).
    public static let turnTimeoutSecondsRange = 1...86400

    /// The settings of an agent type the config has no entry for.
    public func agent(_ type: String) -> Agent { agents[type] ?? Agent() }

    /// Directories scanned for plugin files (`*.so`), in order.
    public var pluginDirectories: [String]
    /// Where sessions and other state are kept.
    public var stateDirectory: String
    /// How many messages each session keeps for clients that resume.
    public var messageBufferSize: Int
    /// How many bytes of messages each session keeps at most.
    public var messageBufferBytes: Int
    /// How many frames may wait for one client before it is disconnected.
    public var clientQueueLimit: Int = 1000
    /// How long a live session with no clients and no running turn is kept before it is
    /// disposed (it stays in the store).
    public var sessionIdleMinutes: Int = SwitchboardConfig.defaultSessionIdleMinutes
    /// How many sessions may be live at once.
    public var maxLiveSessions: Int = SwitchboardConfig.defaultMaxLiveSessions
    /// How much of each session's event log is kept (`history`).
    public var history = HistoryRetention()
    /// Where sessions are stored (`store`): SQLite unless the config names PostgreSQL.
    public var store = StoreSettings()
    /// This daemon as a node of a cluster on the shared store (`cluster`); `nil`: alone.
    public var cluster: ClusterSettings?
    /// How many messages may wait in one session's queue (`queueLimit`).
    public var queueLimit: Int = 100
    /// Containers are named `<prefix><workspace>`.
    public var containerPrefix: String
    /// Whether the host workspace `@host` may be used; `nil` leaves it to the default
    /// (allowed in-process and when the daemon listens on loopback only).
    public var allowHostWorkspace: Bool?
    /// The rules for agents' decision requests (`approvals`).
    public var approvals = ApprovalPolicy()
    /// The daemon's settings.
    public var server: Server
    /// The daemon's listening address, token and defaults.
    public struct Server: Sendable, Hashable {
        /// The address to bind; loopback by default.
        public var host: String = "127.0.0.1"
        /// The TCP port.
        public var port: Int = 7391
        /// The bearer token clients must present; generated at first start when absent.
        public var token: String?
        /// The agent type a live-chat connection uses when the client names none.
        public var defaultAgentType: String = "claude"
        /// Browser origins, besides the daemon's own, whose requests are accepted (normalised
        /// as ``WebOrigin/text``).
        public var allowedOrigins: [String] = []
        /// Connection limits and timeouts.
        public var limits = ConnectionLimits()

        public init() {}
    }

    /// Per agent type: the plugin and its settings.
    public var agents: [String: Agent]
    /// The file this came from, if any.
    public var sourcePath: String?

    /// The configuration used when there is no config file: the bundled plugins next to the
    /// executable, state in `~/.switchboard`.
    public static func defaults(bundledPluginDirectory: String) -> SwitchboardConfig {
        SwitchboardConfig(
            pluginDirectories: [bundledPluginDirectory],
            stateDirectory: FilePaths.expandingTilde("~/.switchboard"),
            messageBufferSize: 1000,
            messageBufferBytes: 8 * 1024 * 1024,
            containerPrefix: "workspace-",
            allowHostWorkspace: nil,
            server: Server(),
            agents: [:],
            sourcePath: nil
        )
    }
}

/// A config file that could not be used: every problem with its key path.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One problem at one key.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// Where, e.g. `agents.claude.plugin` (empty for the whole file).
        public var keyPath: String
        /// What is wrong there.
        public var problem: String

        public init(keyPath: String, problem: String) {
            self.keyPath = keyPath
            self.problem = problem
        }

        public var description: String { keyPath.isEmpty ? problem : "\(keyPath): \(problem)" }
    }

    /// The file, if the config came from one.
    public var path: String?
    /// Every problem found.
    public var issues: [Issue]

    public init(path: String?, issues: [Issue]) {
        self.path = path
        self.issues = issues
    }

    public var description: String {
        let subject = path.map { "Config '\($0)'" } ?? "The config"
        if issues.count == 1 { return "\(subject) is not valid: \(issues[0])" }
        return "\(subject) has \(issues.count) problems:\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}
