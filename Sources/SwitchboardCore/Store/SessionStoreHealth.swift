/// Whether a session store can still keep what is written to it.
public struct SessionStoreHealth: Sendable, Hashable {
    /// Why writes are refused, as a sentence naming the store; `nil` when the store is healthy.
    public var problem: String?

    /// A healthy store.
    public static let healthy = SessionStoreHealth(problem: nil)

    /// A store with a problem.
    public init(problem: String?) {
        self.problem = problem
    }

    /// Whether the store is healthy.
    public var isHealthy: Bool { problem == nil }
}

extension SessionStore {
    /// Healthy: a store that cannot lose its file has nothing to report.
    public func health() async -> SessionStoreHealth { .healthy }

    /// `custom`: a store of another kind than the built-in ones.
    public var storeKind: String { "custom" }
}

extension ErrorCode where Domain == SessionStoreErrorDomain {
    /// The store refuses writes because what it writes would not be kept (its database file
    /// was removed or replaced while it was open); see ``SessionStore/health()``.
    public static var unavailable: Self { Self("unavailable") }
}
