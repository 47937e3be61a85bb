import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardCore

/// Asks the session store whether it can still keep what is written — for `/health` and on a
/// timer — and logs each change: an error when the store becomes unusable (its file removed or
/// replaced), a notice when it recovers.
final class StoreHealthWatch: Sendable {
    let store: any SessionStore
    let logger: Logger
    private let last = Mutex(SessionStoreHealth.healthy)

    init(store: any SessionStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The store's health now, logged if it changed.
    func check() async -> SessionStoreHealth {
        let now = await store.health()
        let previous = last.withLock { state -> SessionStoreHealth in
            defer { state = now }
            return state
        }
        if now != previous {
            if let problem = now.problem {
                logger.error("session store unusable: \(problem)")
            } else {
                logger.notice("session store usable again")
            }
        }
        return now
    }
}

/// The daemon's background work besides serving, until graceful shutdown: restores the
/// sessions whose stored queues still hold messages (once, at start), checks the store's
/// health every few seconds, disposes sessions that stayed idle too long and prunes the
/// history its retention no longer keeps.
struct MaintenanceService: Service {
    /// How often the store is checked.
    static let storeCheckInterval = Duration.seconds(5)

    let manager: SessionManager
    let storeHealth: StoreHealthWatch

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await manager.resumeQueues() }
            group.addTask { await manager.runIdleExpiry() }
            group.addTask { await manager.runHistoryPruning() }
            group.addTask {
                while !Task.isCancelled {
                    _ = await storeHealth.check()
                    do { try await Task.sleep(for: Self.storeCheckInterval) } catch { return }
                }
            }
            // Either loop may end early (no idle timeout); the service lasts until shutdown.
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
