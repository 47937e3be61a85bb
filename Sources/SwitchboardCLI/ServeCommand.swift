import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardProcess
import SwitchboardServer

/// `switchboard serve`: the daemon.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: the HTTP API and WebSocket live chat (Ctrl-C or SIGTERM stops it gracefully).",
        discussion: """
        Every route but /health needs the bearer token: from the config (server.token), \
        $\(AccessToken.environmentVariable), or <state directory>/token, which is generated (mode 0600) at \
        first start.
        """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "The address to bind (default: server.host, else 127.0.0.1).")
    var host: String?

    @Option(help: "The port (default: server.port, else 7391; 0 picks a free one).")
    var port: Int?

    @Flag(name: .customLong("no-host-access"), help: "Refuse the @host workspace (by default it is allowed only on loopback).")
    var noHostAccess = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let config = try options.load()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchboard")
        // Before any plugin loads: what a daemon that died uncleanly left running is killed,
        // and this one's process groups are recorded from now on.
        let records = config.stateDirectory + "/processes"
        try? FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        let reaped = ProcessRecords.reapLeftovers(in: records)
        if !reaped.isEmpty {
            logger.notice("killed \(reaped.count) process group(s) a previous daemon left running", metadata: ["groups": "\(reaped.sorted())"])
        }
        if !ProcessRecords.enable(directory: records) {
            logger.warning("process groups are not recorded: '\(records)' is not a usable directory")
        }
        let runtime = try await Runtime.open(config: config, logger: logger)
        logger.notice("session store: \(Self.storeDescription(config))")
        for entry in runtime.catalog.entries where entry.isFailure {
            logger.warning("plugin not loaded", metadata: ["plugin": "\(entry.path)", "reason": "\(entry.statusText)"])
        }
        let host = host ?? config.server.host
        let port = port ?? config.server.port
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        let allowHost = noHostAccess ? false : (config.allowHostWorkspace ?? SwitchboardServer.isLoopback(host))
        let token: (token: String, generatedAt: String?)
        do {
            token = try AccessToken.resolve(configured: config.server.token, stateDirectory: config.stateDirectory)
        } catch {
            throw CLIError("Could not create the API token in '\(config.stateDirectory)': \(error.localizedDescription)")
        }
        if let path = token.generatedAt {
            logger.notice("generated an API token; it is stored in \(path) (readable only by you)")
        }
        var configuration = SwitchboardServer.Configuration(
            host: host, port: port, token: token.token, defaultAgentType: config.server.defaultAgentType,
            allowedOrigins: config.server.allowedOrigins
        )
        configuration.limits = Self.connectionLimits(config.server.limits, logger: logger)
        // For working on the page: serve its files from a directory instead of the built-in copy.
        if let directory = ProcessInfo.processInfo.environment[WebCommand.directoryVariable], !directory.isEmpty {
            do {
                configuration.webPage = try WebPage(directory: directory)
            } catch {
                throw CLIError("\(error)")
            }
            logger.notice("serving the web page from \(WebCommand.directoryVariable)")
        }
        let manager = runtime.makeManager(allowHostWorkspace: allowHost, logger: logger)
        // Requests a previous run left waiting can no longer be answered: the audit log says so.
        do {
            let expired = try await manager.expireStaleDecisions()
            if expired > 0 { logger.notice("marked \(expired) decision request(s) of the previous run as expired") }
        } catch {
            logger.error("could not expire the previous run's decision requests: \(error)")
        }
        let server = SwitchboardServer(
            manager: manager,
            store: runtime.store,
            catalog: runtime.catalog,
            configuration: configuration,
            cluster: runtime.cluster,
            logger: logger
        )
        let agents = runtime.catalog.registry.agentTypes.joined(separator: ", ")
        do {
            try await server.run { host, port in
                print("switchboard listening on http://\(host):\(port) (agents: \(agents.isEmpty ? "none" : agents); @host \(allowHost ? "allowed" : "refused"))")
                fflush(nil)
            }
        } catch {
            await runtime.close()
            throw error
        }
        await runtime.close()
    }

    /// The store in use, for the log: the SQLite file, or the PostgreSQL URL without its password.
    static func storeDescription(_ config: SwitchboardConfig) -> String {
        switch config.store.kind {
        case .sqlite: "sqlite (\(FilePaths.join(config.stateDirectory, "sessions.sqlite")))"
        case .postgres: "postgres (\(config.store.url.map(String.init(describing:)) ?? "no URL"), pool of \(config.store.poolSize))"
        }
    }
}

extension Serve {
    /// The configured limits, with `maxConnections` lowered to what the descriptor limit allows
    /// once it is raised to its hard maximum.
    static func connectionLimits(_ configured: ConnectionLimits, logger: Logger) -> ConnectionLimits {
        var limits = configured
        let descriptors = DescriptorLimit.raiseToHardMaximum()
        limits.maxConnections = DescriptorLimit.connectionLimit(configured: configured.maxConnections, descriptors: descriptors)
        if limits.maxConnections < configured.maxConnections {
            logger.warning("server.maxConnections lowered to fit the descriptor limit", metadata: [
                "configured": "\(configured.maxConnections)", "using": "\(limits.maxConnections)", "descriptorLimit": "\(descriptors)",
            ])
        }
        return limits
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
