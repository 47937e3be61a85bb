import Logging
import SwitchboardCore
import SwitchboardSQLite

/// The pieces every command that runs sessions needs, built from the configuration.
struct Runtime {
    let config: SwitchboardConfig
    let catalog: PluginCatalog
    let store: SQLiteSessionStore

    init(config: SwitchboardConfig) throws {
        self.config = config
        catalog = PluginCatalog.load(config)
        do {
            store = try SQLiteSessionStore.open(stateDirectory: config.stateDirectory)
        } catch {
            throw CLIError(error.message)
        }
    }

    /// A session manager over this runtime's registry and store.
    func makeManager(allowHostWorkspace: Bool, logger: Logger) -> SessionManager {
        var configuration = SessionManager.Configuration(config)
        configuration.allowHostWorkspace = allowHostWorkspace
        // One process runs a session at a time: a second daemon or `chat` on the same state
        // directory gets an error naming the first.
        configuration.lockDirectory = FilePaths.join(config.stateDirectory, "locks")
        return SessionManager(registry: catalog.registry, store: store, configuration: configuration, logger: logger)
    }
}
