import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where sessions are stored (the `store` object): the embedded SQLite file in the state
/// directory (the default), or a PostgreSQL database.
public struct StoreSettings: Sendable, Hashable {
    /// The kinds of store.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// `sessions.sqlite` in the state directory.
        case sqlite
        /// A PostgreSQL database (``StoreSettings/url``).
        case postgres
    }

    /// Which store.
    public var kind: Kind = .sqlite
    /// The database, for ``Kind/postgres``: the config's `store.url`, or
    /// `$SWITCHBOARD_DATABASE_URL`, which takes precedence.
    public var url: DatabaseURL?
    /// How many connections the PostgreSQL store keeps open at most (`store.poolSize`).
    public var poolSize: Int = StoreSettings.defaultPoolSize

    /// The default `poolSize`.
    public static let defaultPoolSize = 10
    /// The values `poolSize` may take.
    public static let poolSizeRange = 1...100
    /// The environment variable that supplies (or overrides) the PostgreSQL URL, so the
    /// password need not be written in the config file.
    public static let databaseURLVariable = "SWITCHBOARD_DATABASE_URL"
    /// The keys of the `store` object.
    public static let keys: [String] = ["kind", "poolSize", "url"]

    /// The SQLite store.
    public init() {}

    /// The store `kind` with `url` and `poolSize`.
    public init(kind: Kind, url: DatabaseURL? = nil, poolSize: Int = StoreSettings.defaultPoolSize) {
        self.kind = kind
        self.url = url
        self.poolSize = poolSize
    }

    /// `$SWITCHBOARD_DATABASE_URL` of this process, when set and not empty.
    public static func environmentURL() -> String? {
        guard let value = getenv(databaseURLVariable).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }
}

extension SwitchboardConfig {
    /// Reads `store`, reporting each problem with its key path; a URL is only ever quoted
    /// without its password.
    static func parseStore(
        _ object: [String: JSONValue], environmentURL: String?, into config: inout SwitchboardConfig, issue: (String, String) -> Void
    ) {
        guard let value = object["store"] else { return }
        guard let store = value.objectValue else {
            issue("store", "must be an object such as {\"kind\": \"sqlite\"}, not \(value.kindDescription)")
            return
        }
        for key in store.keys.sorted() where !StoreSettings.keys.contains(key) {
            issue("store.\(key)", "unknown key (known keys: \(StoreSettings.keys.joined(separator: ", ")))")
        }
        var settings = StoreSettings()
        let kinds = StoreSettings.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
        if let kind = store["kind"] {
            guard let text = kind.stringValue, let parsed = StoreSettings.Kind(rawValue: text) else {
                issue("store.kind", "must be \(kinds), not \(kind.jsonText)")
                return
            }
            settings.kind = parsed
        }
        if let size = store["poolSize"] {
            let range = StoreSettings.poolSizeRange
            if let n = size.intValue, range.contains(n) {
                settings.poolSize = n
            } else {
                issue("store.poolSize", "must be a whole number of connections from \(range.lowerBound) to \(range.upperBound), not \(size.jsonText)")
            }
        }
        switch settings.kind {
        case .sqlite:
            for key in ["url", "poolSize"] where store[key] != nil {
                issue("store.\(key)", "applies only to {\"kind\": \"postgres\"}; the SQLite store lives in the state directory")
            }
        case .postgres:
            var text: String?
            var keyPath = "store.url"
            if let url = store["url"] {
                if let written = url.stringValue, !written.isEmpty {
                    text = written
                } else {
                    issue("store.url", "must be a postgres:// URL, not \(url.kindDescription)")
                    return
                }
            }
            if let environmentURL {
                text = environmentURL
                keyPath = "store.url (from $\(StoreSettings.databaseURLVariable))"
            }
            guard let text else {
                issue("store.url", "is required for {\"kind\": \"postgres\"}: a URL such as \"postgres://switchboard@db.example:5432/switchboard\" (or set $\(StoreSettings.databaseURLVariable))")
                return
            }
            do {
                settings.url = try DatabaseURL(parsing: text)
            } catch {
                issue(keyPath, error.message)
                return
            }
        }
        config.store = settings
    }
}
