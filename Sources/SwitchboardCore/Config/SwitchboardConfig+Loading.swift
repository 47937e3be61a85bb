import SwitchboardAdapterAPI

extension SwitchboardConfig {
    /// The keys a config file may have at its top level.
    public static let topLevelKeys: [String] = [
        "agents", "allowHostWorkspace", "approvals", "clientQueueLimit", "cluster", "containerPrefix", "history", "maxLiveSessions",
        "messageBufferBytes", "messageBufferSize", "pluginDirectories", "queueLimit", "server", "sessionIdleMinutes", "stateDirectory", "store",
    ]

    /// The keys of an `agents.<type>` object.
    public static let agentKeys: [String] = ["callTimeoutSeconds", "isolation", "plugin", "settings", "turnTimeoutSeconds"]

    /// The keys of the `server` object.
    public static let serverKeys: [String] = [
        "allowedOrigins", "defaultAgent", "headerTimeoutSeconds", "host", "idleTimeoutSeconds", "maxConnections",
        "maxHeaderBytes", "pingIntervalSeconds", "port", "token",
    ]

    /// The largest `messageBufferSize`.
    public static let maximumMessageBufferSize = 1_000_000
    /// The largest `messageBufferBytes` (1 GiB).
    public static let maximumMessageBufferBytes = 1 << 30
    /// The largest `clientQueueLimit`.
    public static let maximumClientQueueLimit = 1_000_000

    /// Reads and validates a config file.
    ///
    /// - Parameter bundledPluginDirectory: where the bundled plugins are; the plugin
    ///   directory when the file names no `pluginDirectories`.
    /// - Throws: ``ConfigError`` listing every problem with its key path.
    public static func load(path: String, bundledPluginDirectory: String) throws(ConfigError) -> SwitchboardConfig {
        let bytes: [UInt8]
        do {
            bytes = try FilePaths.readFile(path)
        } catch {
            throw ConfigError(path: path, issues: [.init(keyPath: "", problem: error.description)])
        }
        let absolute = FilePaths.resolve(path, against: FilePaths.currentDirectory())
        return try parse(
            String(decoding: bytes, as: UTF8.self),
            path: path,
            baseDirectory: FilePaths.directory(of: absolute),
            bundledPluginDirectory: bundledPluginDirectory
        )
    }

    /// Validates config text. Relative paths resolve against `baseDirectory`.
    /// - Parameter environmentURL: what `$SWITCHBOARD_DATABASE_URL` holds (this process's, by
    ///   default); it supplies or overrides `store.url` of a PostgreSQL store.
    public static func parse(
        _ text: String,
        path: String? = nil,
        baseDirectory: String,
        bundledPluginDirectory: String,
        environmentURL: String? = StoreSettings.environmentURL()
    ) throws(ConfigError) -> SwitchboardConfig {
        let root: JSONValue
        do {
            root = try JSONValue(parsing: text)
        } catch {
            throw ConfigError(path: path, issues: [.init(keyPath: "", problem: "not valid JSON: \(error.description)")])
        }
        var config = SwitchboardConfig.defaults(bundledPluginDirectory: bundledPluginDirectory)
        config.sourcePath = path
        var issues: [ConfigError.Issue] = []
        func issue(_ keyPath: String, _ problem: String) {
            issues.append(.init(keyPath: keyPath, problem: problem))
        }
        guard let object = root.objectValue else {
            throw ConfigError(path: path, issues: [.init(keyPath: "", problem: "the top level must be an object, not \(root.kindDescription)")])
        }
        for key in object.keys.sorted() where !topLevelKeys.contains(key) {
            issue(key, "unknown key (known keys: \(topLevelKeys.joined(separator: ", ")))")
        }

        if let value = object["pluginDirectories"] {
            if let list = value.arrayValue {
                var directories: [String] = []
                for (i, element) in list.enumerated() {
                    guard let dir = element.stringValue, !dir.isEmpty else {
                        issue("pluginDirectories[\(i)]", "must be a non-empty string, not \(element.kindDescription)")
                        continue
                    }
                    let resolved = FilePaths.resolve(dir, against: baseDirectory)
                    if !FilePaths.isDirectory(resolved) {
                        issue("pluginDirectories[\(i)]", "directory '\(dir)' does not exist")
                    }
                    directories.append(resolved)
                }
                config.pluginDirectories = directories
            } else {
                issue("pluginDirectories", "must be an array of directory paths, not \(value.kindDescription)")
            }
        }
        if let value = object["stateDirectory"] {
            if let dir = value.stringValue, !dir.isEmpty {
                config.stateDirectory = FilePaths.resolve(dir, against: baseDirectory)
            } else {
                issue("stateDirectory", "must be a non-empty string, not \(value.kindDescription)")
            }
        }
        if let value = object["messageBufferSize"] {
            if let n = value.intValue, (1...maximumMessageBufferSize).contains(n) {
                config.messageBufferSize = n
            } else {
                issue("messageBufferSize", "must be a whole number from 1 to \(maximumMessageBufferSize), not \(value.jsonText)")
            }
        }
        if let value = object["messageBufferBytes"] {
            if let n = value.intValue, (1024...maximumMessageBufferBytes).contains(n) {
                config.messageBufferBytes = n
            } else {
                issue("messageBufferBytes", "must be a whole number from 1024 to \(maximumMessageBufferBytes), not \(value.jsonText)")
            }
        }
        if let value = object["clientQueueLimit"] {
            if let n = value.intValue, (1...maximumClientQueueLimit).contains(n) {
                config.clientQueueLimit = n
            } else {
                issue("clientQueueLimit", "must be a whole number from 1 to \(maximumClientQueueLimit), not \(value.jsonText)")
            }
        }
        if let value = object["containerPrefix"] {
            if let prefix = value.stringValue {
                config.containerPrefix = prefix
            } else {
                issue("containerPrefix", "must be a string, not \(value.kindDescription)")
            }
        }
        if let value = object["allowHostWorkspace"] {
            if let flag = value.boolValue {
                config.allowHostWorkspace = flag
            } else {
                issue("allowHostWorkspace", "must be true or false, not \(value.kindDescription)")
            }
        }
        if let value = object["server"] {
            if let server = value.objectValue {
                for key in server.keys.sorted() where !serverKeys.contains(key) {
                    issue("server.\(key)", "unknown key (known keys: \(serverKeys.joined(separator: ", ")))")
                }
                if let host = server["host"] {
                    if let text = host.stringValue, !text.isEmpty { config.server.host = text } else { issue("server.host", "must be an address, not \(host.jsonText)") }
                }
                if let port = server["port"] {
                    if let n = port.intValue, (1...65535).contains(n) { config.server.port = n } else { issue("server.port", "must be a port number from 1 to 65535, not \(port.jsonText)") }
                }
                if let token = server["token"] {
                    if let text = token.stringValue, text.utf8.count >= 16 { config.server.token = text } else { issue("server.token", "must be a string of at least 16 characters") }
                }
                if let origins = server["allowedOrigins"] {
                    if let list = origins.arrayValue {
                        var allowed: [String] = []
                        for (i, element) in list.enumerated() {
                            if let text = element.stringValue, let origin = WebOrigin(text) {
                                allowed.append(origin.text)
                            } else {
                                issue("server.allowedOrigins[\(i)]", "must be an origin such as \"https://app.example:8443\" (scheme, host and optional port, no path), not \(element.jsonText)")
                            }
                        }
                        config.server.allowedOrigins = allowed
                    } else {
                        issue("server.allowedOrigins", "must be an array of origins, not \(origins.kindDescription)")
                    }
                }
                if let agent = server["defaultAgent"] {
                    if let type = agent.stringValue, AgentTypeName.problem(with: type) == nil {
                        config.server.defaultAgentType = type
                    } else {
                        issue("server.defaultAgent", "must be an agent type name, not \(agent.jsonText)")
                    }
                }
            } else {
                issue("server", "must be an object, not \(value.kindDescription)")
            }
        }
        if let value = object["approvals"] {
            if let policy = parseApprovals(value, issue: issue) { config.approvals = policy }
        }
        parseLimits(object, into: &config, issue: issue)
        parseHistory(object, into: &config, issue: issue)
        parseStore(object, environmentURL: environmentURL, into: &config, issue: issue)
        parseCluster(object, into: &config, issue: issue)
        if let value = object["agents"] {
            if let agents = value.objectValue {
                for type in agents.keys.sorted() {
                    if let agent = parseAgent(type, agents[type]!, config: config, baseDirectory: baseDirectory, issue: issue) {
                        config.agents[type] = agent
                    }
                }
            } else {
                issue("agents", "must be an object keyed by agent type, not \(value.kindDescription)")
            }
        }
        guard issues.isEmpty else { throw ConfigError(path: path, issues: issues) }
        return config
    }

    private static func parseAgent(
        _ type: String,
        _ value: JSONValue,
        config: SwitchboardConfig,
        baseDirectory: String,
        issue: (String, String) -> Void
    ) -> Agent? {
        let keyPath = "agents.\(type)"
        if let problem = AgentTypeName.problem(with: type) {
            issue(keyPath, problem)
            return nil
        }
        guard let object = value.objectValue else {
            issue(keyPath, "must be an object with 'plugin' and/or 'settings', not \(value.kindDescription)")
            return nil
        }
        var agent = Agent()
        var ok = true
        for key in object.keys.sorted() where !agentKeys.contains(key) {
            issue("\(keyPath).\(key)", "unknown key (known keys: \(agentKeys.joined(separator: ", ")))")
            ok = false
        }
        if let value = object["isolation"] {
            if let text = value.stringValue, let mode = PluginIsolationMode(rawValue: text) {
                agent.isolation = mode
            } else {
                issue("\(keyPath).isolation", "must be \"inline\" or \"process\", not \(value.jsonText)")
                ok = false
            }
        }
        for (key, range) in [("callTimeoutSeconds", callTimeoutSecondsRange), ("turnTimeoutSeconds", turnTimeoutSecondsRange)] {
            guard let value = object[key] else { continue }
            guard let n = value.intValue, range.contains(n) else {
                issue("\(keyPath).\(key)", "must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound), not \(value.jsonText)")
                ok = false
                continue
            }
            if key == "callTimeoutSeconds" { agent.callTimeoutSeconds = n } else { agent.turnTimeoutSeconds = n }
        }
        if let plugin = object["plugin"] {
            if let written = plugin.stringValue, !written.isEmpty {
                agent.pluginAsWritten = written
                if let resolved = resolvePlugin(written, config: config, baseDirectory: baseDirectory) {
                    agent.plugin = resolved
                } else if written.contains("/") {
                    issue("\(keyPath).plugin", "file '\(written)' does not exist")
                    ok = false
                } else {
                    let searched = config.pluginDirectories.joined(separator: ", ")
                    issue("\(keyPath).plugin", "file '\(written)' is in none of the plugin directories (\(searched))")
                    ok = false
                }
            } else {
                issue("\(keyPath).plugin", "must be a file path, not \(plugin.kindDescription)")
                ok = false
            }
        }
        if let settings = object["settings"] {
            if settings.objectValue != nil {
                agent.settings = settings
            } else {
                issue("\(keyPath).settings", "must be an object, not \(settings.kindDescription)")
                ok = false
            }
        }
        return ok ? agent : nil
    }

    /// A plugin named with a slash is a path relative to the config file; a bare file name
    /// is looked for in the plugin directories, in order.
    private static func resolvePlugin(_ written: String, config: SwitchboardConfig, baseDirectory: String) -> String? {
        if written.contains("/") || written.hasPrefix("~") {
            let path = FilePaths.resolve(written, against: baseDirectory)
            return FilePaths.exists(path) ? path : nil
        }
        for directory in config.pluginDirectories {
            let path = FilePaths.join(directory, written)
            if FilePaths.exists(path) { return path }
        }
        return nil
    }
}
