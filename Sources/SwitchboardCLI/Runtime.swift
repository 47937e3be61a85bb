import Logging
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite

/// The pieces every command that runs sessions needs, built from the configuration.
struct Runtime {
    let config: SwitchboardConfig
    let catalog: PluginCatalog
    let store: any SessionStore
    /// The PostgreSQL store, when the config names one: it is closed with ``close()``.
    private let postgres: PostgresSessionStore?
    /// This daemon as a node, when the config has `cluster` (with a PostgreSQL store).
    let cluster: ClusterNode?

    /// Loads the plugins and opens the configured store.
    static func open(config: SwitchboardConfig, logger: Logger = Logger(label: "switchboard.store") { _ in SwiftLogNoOpLogHandler() }) async throws -> Runtime {
        let catalog = PluginCatalog.load(config)
        switch try await ConfiguredStore.open(config, logger: logger) {
        case .sqlite(let store):
            return Runtime(config: config, catalog: catalog, store: store, postgres: nil, cluster: nil)
        case .postgres(let store):
            let cluster = config.cluster.map { settings in
                ClusterNode(settings: settings, backplane: PostgresBackplane(store: store), logger: Logger(label: "switchboard.cluster"))
            }
            return Runtime(config: config, catalog: catalog, store: store, postgres: store, cluster: cluster)
        }
    }

    /// Closes the store's connections (nothing to do for SQLite).
    func close() async {
        await postgres?.close()
    }

    /// A session manager over this runtime's registry and store.
    func makeManager(allowHostWorkspace: Bool, logger: Logger) -> SessionManager {
        var configuration = SessionManager.Configuration(config)
        configuration.allowHostWorkspace = allowHostWorkspace
        // One process runs a session at a time: a second daemon or `chat` on the same state
        // directory gets an error naming the first.
        configuration.lockDirectory = FilePaths.join(config.stateDirectory, "locks")
        return SessionManager(registry: catalog.registry, store: store, configuration: configuration, cluster: cluster, logger: logger)
    }
}

/// The store the config names, opened.
enum ConfiguredStore {
    case sqlite(SQLiteSessionStore)
    case postgres(PostgresSessionStore)

    /// Opens the SQLite store in the state directory, or connects to PostgreSQL (within its
    /// connect timeout). Errors name the file, or the server's `host:port`, never a password.
    static func open(_ config: SwitchboardConfig, logger: Logger) async throws -> ConfiguredStore {
        switch config.store.kind {
        case .sqlite:
            do {
                return .sqlite(try SQLiteSessionStore.open(stateDirectory: config.stateDirectory))
            } catch {
                throw CLIError(error.message)
            }
        case .postgres:
            guard let url = config.store.url else {
                throw CLIError("store.url: a PostgreSQL store needs a URL (in the config or $\(StoreSettings.databaseURLVariable)).")
            }
            do {
                // The pool reports every failed connection attempt at `info`; the health
                // watch already says when the database is lost and back.
                var poolLogger = logger
                poolLogger.logLevel = max(logger.logLevel, .warning)
                var options = PostgresSessionStore.Options(poolSize: config.store.poolSize)
                // The nodes of a cluster learn of each other's frames from the log's appends.
                options.notifyFrames = config.cluster != nil
                return .postgres(try await PostgresSessionStore.open(url, options: options, logger: poolLogger))
            } catch let error as SessionStoreError {
                throw CLIError(error.message)
            }
        }
    }
}
