import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
import UnixSignals

/// The daemon: the HTTP API and the WebSocket live chat over one session manager, run as
/// ServiceLifecycle services so SIGINT/SIGTERM shut it down gracefully — WebSocket clients
/// get a close frame, then every session is disposed (and its agent processes are gone)
/// before ``run()`` returns.
public struct SwitchboardServer: Sendable {
    /// Where and how the daemon listens.
    public struct Configuration: Sendable {
        /// The address to bind.
        public var host: String
        /// The TCP port; 0 picks a free one (reported through `onListening`).
        public var port: Int
        /// The bearer token every route but `/health` requires.
        public var token: String
        /// The agent type a live-chat connection uses when the client names none.
        public var defaultAgentType: String
        /// The largest client frame accepted, in bytes.
        public var maxMessageBytes: Int
        /// Browser origins accepted besides the daemon's own (`server.allowedOrigins`).
        public var allowedOrigins: [String]
        /// Connection limits and timeouts (`server.maxConnections` …); see ``ConnectionLimits``.
        public var limits = ConnectionLimits()
        /// The web page served at `/` (built into the binary unless replaced).
        public var webPage = WebPage.builtIn

        public init(host: String = "127.0.0.1", port: Int = 7391, token: String, defaultAgentType: String = "claude",
                    maxMessageBytes: Int = 1 << 20, allowedOrigins: [String] = []) {
            self.host = host
            self.port = port
            self.token = token
            self.defaultAgentType = defaultAgentType
            self.maxMessageBytes = maxMessageBytes
            self.allowedOrigins = allowedOrigins
        }
    }

    public let manager: SessionManager
    public let store: any SessionStore
    public let catalog: PluginCatalog
    public let configuration: Configuration
    public let logger: Logger
    let storeHealth: StoreHealthWatch
    /// This daemon as a node of a cluster (the same one its manager was given), or `nil`.
    public let cluster: ClusterNode?

    public init(manager: SessionManager, store: any SessionStore, catalog: PluginCatalog, configuration: Configuration,
                cluster: ClusterNode? = nil, logger: Logger) {
        self.cluster = cluster
        self.manager = manager
        self.store = store
        self.catalog = catalog
        self.configuration = configuration
        self.logger = logger
        self.storeHealth = StoreHealthWatch(store: store, logger: logger)
    }

    /// The `{workspace}` path parameter, as written: not percent-decoded, so `%40host` is
    /// not `@host` (and is refused as a workspace name).
    static func workspace(_ context: some RequestContext) throws -> String {
        try context.parameters.require("workspace")
    }

    /// Whether `host` is a loopback address (where `@host` is allowed by default).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Builds the Hummingbird application. `onListening` receives the bound address.
    public func makeApplication(onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) -> some ApplicationProtocol {
        let api = HTTPAPI(manager: manager, store: store, catalog: catalog, defaultAgentType: configuration.defaultAgentType,
                          storeHealth: storeHealth, cluster: cluster)
        let origins = OriginPolicy(host: configuration.host, port: configuration.port, allowedOrigins: configuration.allowedOrigins)
        let router = Router()
        router.middlewares.add(NotFoundAsJSONMiddleware())
        router.middlewares.add(OriginMiddleware(policy: origins))
        router.middlewares.add(BearerTokenMiddleware(token: configuration.token))
        api.addRoutes(to: router)
        configuration.webPage.addRoutes(to: router)
        // A request to the live-chat path that was not upgraded — a foreign origin, a bad
        // workspace name, no Upgrade header — lands here and gets a proper JSON answer.
        router.get("/v1/live/{workspace}") { _, context -> Response in
            let workspace = try Self.workspace(context)
            if let problem = WorkspaceName.problem(with: workspace) { throw APIError.badRequest(problem) }
            throw APIError(.upgradeRequired, "upgrade_required", "This path speaks WebSocket: send an Upgrade request.")
        }

        let upgrade = LiveChatUpgrade(
            token: configuration.token, origins: origins, manager: manager, defaultAgentType: configuration.defaultAgentType,
            maxMessageBytes: configuration.maxMessageBytes, logger: logger
        )
        let configuration = self.configuration, logger = self.logger
        let connections = ConnectionGuard(limit: configuration.limits.clamped().maxConnections, logger: logger)
        return Application(
            router: router,
            server: guardedServer(upgrade: upgrade, connections: connections),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "switchboard"),
            onServerRunning: { channel in
                await Self.guardAccepts(of: channel, connections: connections, logger: logger)
                let port = channel.localAddress?.port ?? configuration.port
                origins.listening(on: port)
                await onListening(configuration.host, port)
            },
            logger: logger
        )
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    public func run(onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: SessionsService(manager: manager, registry: catalog.registry, logger: logger)),
                    .init(service: makeApplication(onListening: onListening)),
                    .init(service: MaintenanceService(manager: manager, storeHealth: storeHealth)),
                ] + (cluster.map { [.init(service: ClusterService(node: $0, manager: manager))] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Keeps the sessions for the daemon's lifetime and disposes all of them at shutdown —
/// after the HTTP server (listed after it, so shut down before it) has stopped.
/// Keeps this daemon's part of the cluster (``ClusterNode/run(_:)``) until graceful shutdown;
/// a node that cannot join ends the daemon.
struct ClusterService: Service {
    let node: ClusterNode
    let manager: SessionManager

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await node.run(manager) }
    }
}

struct SessionsService: Service {
    let manager: SessionManager
    let registry: AgentRegistry
    let logger: Logger
    /// How long disposing every session and stopping the plugin helpers may take in all;
    /// past it the daemon exits anyway (the guardian kills what is left).
    var shutdownDeadline: Duration = .seconds(75)

    func run() async throws {
        try? await gracefulShutdown()
        let count = await manager.list().count
        logger.info("shutting down: disposing \(count) session(s)")
        let watchdog = ShutdownWatchdog(deadline: shutdownDeadline, logger: logger)
        defer { watchdog.cancel() }
        await manager.disposeAll()
        logger.info("all sessions disposed")
        await registry.shutDownHelpers()
    }
}

/// Ends the process if shutdown has not finished by its deadline: a plugin that never
/// answers must not keep the daemon from exiting.
final class ShutdownWatchdog {
    private let item: DispatchWorkItem

    init(deadline: Duration, logger: Logger) {
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        item = DispatchWorkItem {
            logger.error("shutdown did not finish within \(seconds) s; exiting without waiting for the rest")
            exit(0)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
    }

    func cancel() { item.cancel() }
}
