import Testing
import SwitchboardAdapterAPI
import SwitchboardCore

/// The `store` object, `$SWITCHBOARD_DATABASE_URL`, and PostgreSQL URLs.
@Suite("Config: the store")
struct StoreConfigTests {
    func parse(_ json: String, environment: String? = nil) throws(ConfigError) -> SwitchboardConfig {
        try SwitchboardConfig.parse(json, path: "test.json", baseDirectory: "/", bundledPluginDirectory: "/", environmentURL: environment)
    }

    func issues(_ json: String, environment: String? = nil) -> [String] {
        do {
            _ = try parse(json, environment: environment)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test("Without a store object the store is SQLite; a PostgreSQL store reads its URL and pool size")
    func kinds() throws {
        #expect(try parse("{}").store == StoreSettings())
        #expect(try parse(#"{"store": {"kind": "sqlite"}}"#).store.kind == .sqlite)
        let store = try parse(#"{"store": {"kind": "postgres", "url": "postgres://sb:pw@db.example:6543/switch", "poolSize": 25}}"#).store
        #expect(store.kind == .postgres)
        #expect(store.poolSize == 25)
        #expect(store.url?.host == "db.example")
        #expect(store.url?.port == 6543)
        #expect(store.url?.user == "sb")
        #expect(store.url?.password == "pw")
        #expect(store.url?.database == "switch")
        #expect(try parse(#"{"store": {"kind": "postgres", "url": "postgres://db"}}"#).store.poolSize == StoreSettings.defaultPoolSize)
    }

    @Test("A bad kind, a pool size out of range, a missing URL and unknown keys are named by key")
    func errors() {
        #expect(issues(#"{"store": {"kind": "mysql"}}"#) == [#"store.kind: must be "sqlite" or "postgres", not "mysql""#])
        #expect(issues(#"{"store": "postgres"}"#) == [#"store: must be an object such as {"kind": "sqlite"}, not a string"#])
        for size in ["0", "101", "-1", "2.5", #""10""#] {
            #expect(issues(#"{"store": {"kind": "postgres", "url": "postgres://db", "poolSize": \#(size)}}"#)
                    == ["store.poolSize: must be a whole number of connections from 1 to 100, not \(size)"])
        }
        #expect(issues(#"{"store": {"kind": "postgres"}}"#).first?.hasPrefix("store.url: is required for {\"kind\": \"postgres\"}") == true)
        #expect(issues(#"{"store": {"kind": "postgres", "url": 5}}"#) == ["store.url: must be a postgres:// URL, not a number"])
        #expect(issues(#"{"store": {"kind": "sqlite", "url": "postgres://db"}}"#)
                == ["store.url: applies only to {\"kind\": \"postgres\"}; the SQLite store lives in the state directory"])
        #expect(issues(#"{"store": {"kind": "postgres", "url": "postgres://db", "host": "x"}}"#)
                == ["store.host: unknown key (known keys: kind, poolSize, url)"])
    }

    @Test("A bad URL is reported without its password")
    func badURLHidesPassword() {
        let found = issues(#"{"store": {"kind": "postgres", "url": "postgres://sb:hunter2@db:99999/x"}}"#)
        #expect(found == ["store.url: 'postgres://sb:***@db:99999/x' is not a PostgreSQL URL: its port must be a number from 1 to 65535, not '99999'"])
        let scheme = issues(#"{"store": {"kind": "postgres", "url": "mysql://sb:hunter2@db/x"}}"#)
        #expect(scheme == ["store.url: 'mysql://sb:***@db/x' is not a PostgreSQL URL: its scheme must be postgres or postgresql, not 'mysql'"])
        #expect(!found.joined().contains("hunter2") && !scheme.joined().contains("hunter2"))
    }

    @Test("$SWITCHBOARD_DATABASE_URL supplies the URL, and overrides the file's")
    func environment() throws {
        let supplied = try parse(#"{"store": {"kind": "postgres"}}"#, environment: "postgres://env@envhost/envdb")
        #expect(supplied.store.url?.host == "envhost")
        let overridden = try parse(#"{"store": {"kind": "postgres", "url": "postgres://file@filehost/db"}}"#, environment: "postgres://env:pw@envhost/envdb")
        #expect(overridden.store.url?.host == "envhost")
        #expect(overridden.store.url?.password == "pw")
        // It does not switch an SQLite config to PostgreSQL.
        #expect(try parse("{}", environment: "postgres://env@envhost/envdb").store.kind == .sqlite)
        let bad = issues(#"{"store": {"kind": "postgres"}}"#, environment: "postgres://u:topsecret@h:0/d")
        #expect(bad.first?.hasPrefix("store.url (from $SWITCHBOARD_DATABASE_URL): 'postgres://u:***@h:0/d' is not") == true, "\(bad)")
    }

    @Test("URLs: defaults, percent-encoding, IPv6, sslmode; the description hides the password")
    func urls() throws {
        let bare = try DatabaseURL(parsing: "postgresql://db.example")
        #expect(bare.port == 5432 && bare.user == "postgres" && bare.database == "postgres" && bare.password == nil && bare.tls == .prefer)
        let encoded = try DatabaseURL(parsing: "postgres://us%40er:p%3Aw%2Fd@[::1]:5433/my%20db?sslmode=disable")
        #expect(encoded.user == "us@er" && encoded.password == "p:w/d" && encoded.host == "::1" && encoded.port == 5433)
        #expect(encoded.database == "my db" && encoded.tls == .disable)
        #expect(encoded.endpoint == "[::1]:5433")
        #expect(encoded.description == "postgres://us@er:***@[::1]:5433/my db?sslmode=disable")
        #expect(throws: DatabaseURL.Problem.self) { try DatabaseURL(parsing: "postgres://db?sslmode=verify-full") }
        #expect(throws: DatabaseURL.Problem.self) { try DatabaseURL(parsing: "postgres://db?application_name=x") }
        #expect(throws: DatabaseURL.Problem.self) { try DatabaseURL(parsing: "postgres:///nohost") }
        #expect(throws: DatabaseURL.Problem.self) { try DatabaseURL(parsing: "db.example:5432") }
        #expect(DatabaseURL.redacting("postgres://a:b@c/d") == "postgres://a:***@c/d")
        #expect(DatabaseURL.redacting("postgres://a@c/d") == "postgres://a@c/d")
    }
}
