import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// Every numeric config value has a range; `config validate` refuses what the daemon cannot use.
@Suite("Config: numeric limits and allowed origins")
struct ConfigLimitsTests {
    static let hostile = ["0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999999", "1.5", "1e3", "\"12\""]

    func issues(_ json: String) throws -> [ConfigError.Issue] {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            _ = try SwitchboardConfig.parse(json, path: "test.json", baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
            return []
        } catch {
            return error.issues
        }
    }

    @Test("Each numeric key refuses 0, -1, Int64.max, Int64.min, huge, fractional and string values, naming the key path", arguments: [
        ("messageBufferSize", "must be a whole number from 1 to 1000000"),
        ("messageBufferBytes", "must be a whole number from 1024 to 1073741824"),
        ("clientQueueLimit", "must be a whole number from 1 to 1000000"),
        ("server.port", "must be a port number from 1 to 65535"),
        ("sessionIdleMinutes", "must be a whole number from 1 to 525600"),
        ("maxLiveSessions", "must be a whole number from 1 to 100000"),
        ("server.maxConnections", "must be a whole number from 1 to 65536"),
        ("server.headerTimeoutSeconds", "must be a whole number from 1 to 300"),
        ("server.idleTimeoutSeconds", "must be a whole number from 1 to 3600"),
        ("server.pingIntervalSeconds", "must be a whole number from 1 to 3600"),
        ("server.maxHeaderBytes", "must be a whole number from 1024 to 1048576"),
    ])
    func refusesExtremes(key: String, message: String) throws {
        for value in Self.hostile {
            let json = key.hasPrefix("server.") ? #"{"server": {"\#(key.dropFirst(7))": \#(value)}}"# : #"{"\#(key)": \#(value)}"#
            let found = try issues(json)
            #expect(found.count == 1, "\(key) = \(value)")
            #expect(found.first?.keyPath == key)
            #expect(found.first?.problem == "\(message), not \(value)", "\(key) = \(value)")
        }
    }

    @Test("The maxima themselves are accepted")
    func acceptsMaxima() throws {
        #expect(try issues(#"{"messageBufferSize": 1000000, "messageBufferBytes": 1073741824, "clientQueueLimit": 1000000, "server": {"port": 65535}}"#).isEmpty)
        #expect(try issues(#"{"messageBufferBytes": 1073741825}"#).map(\.keyPath) == ["messageBufferBytes"])
        #expect(try issues(#"{"clientQueueLimit": 1000001}"#).map(\.keyPath) == ["clientQueueLimit"])
    }

    @Test("The connection and live-session limits have their documented defaults; their maxima are accepted, one more is not")
    func connectionAndSessionLimits() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let defaults = try SwitchboardConfig.parse("{}", baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
        #expect(defaults.sessionIdleMinutes == 1440 && defaults.maxLiveSessions == 256)
        let limits = defaults.server.limits
        #expect(limits.maxConnections == 512 && limits.headerTimeoutSeconds == 10 && limits.idleTimeoutSeconds == 60)
        #expect(limits.pingIntervalSeconds == 30 && limits.maxHeaderBytes == 32768)
        let maxima = #"{"sessionIdleMinutes": 525600, "maxLiveSessions": 100000, "server": {"maxConnections": 65536, "headerTimeoutSeconds": 300, "idleTimeoutSeconds": 3600, "pingIntervalSeconds": 3600, "maxHeaderBytes": 1048576}}"#
        #expect(try issues(maxima).isEmpty)
        let parsed = try SwitchboardConfig.parse(maxima, baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
        #expect(parsed.server.limits.maxConnections == 65536 && parsed.server.limits.maxHeaderBytes == 1048576)
        #expect(SessionManager.Configuration(parsed).sessionIdleTimeout == .seconds(525600 * 60))
        #expect(SessionManager.Configuration(parsed).maxLiveSessions == 100000)
        #expect(try issues(#"{"server": {"maxConnections": 65537, "maxHeaderBytes": 1023}}"#).map(\.keyPath) == ["server.maxConnections", "server.maxHeaderBytes"])
        var extreme = ConnectionLimits()
        extreme.maxConnections = Int.max
        extreme.headerTimeoutSeconds = Int.min
        extreme.maxHeaderBytes = 0
        let clamped = extreme.clamped()
        #expect(clamped.maxConnections == 65536 && clamped.headerTimeoutSeconds == 1 && clamped.maxHeaderBytes == 1024)
        #expect(clamped.idleTimeoutSeconds == 60 && clamped.pingIntervalSeconds == 30)
    }

    @Test("server.allowedOrigins takes origins, normalised with their port, and names a bad entry")
    func allowedOrigins() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try SwitchboardConfig.parse(#"{"server": {"allowedOrigins": ["https://App.Example", "http://localhost:3000/"]}}"#,
                                                 baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
        #expect(config.server.allowedOrigins == ["https://app.example:443", "http://localhost:3000"])
        let bad = try issues(#"{"server": {"allowedOrigins": ["http://a.example/path", "null", 7, "ftp://x", "http://x:0"]}}"#)
        #expect(bad.map(\.keyPath) == (0..<5).map { "server.allowedOrigins[\($0)]" })
        #expect(try issues(#"{"server": {"allowedOrigins": "http://a.example"}}"#).map(\.keyPath) == ["server.allowedOrigins"])
    }

}

/// The same limits as the operator meets them.
@Suite("Config: `config validate` and numeric limits", .childProcessGate)
struct ConfigValidateLimitsTests {
    @Test("`config validate` refuses extreme numbers and prints each key path")
    func validateCommand() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("big.json", #"{"clientQueueLimit": 9223372036854775807, "messageBufferBytes": 4611686018427387904, "messageBufferSize": -9223372036854775808}"#)
        let result = try ChildProcess.run(BuildProducts.executable("switchboard"), ["config", "validate", file])
        #expect(result.status != 0)
        #expect(result.stderr.contains("clientQueueLimit: must be a whole number from 1 to 1000000, not 9223372036854775807"), "\(result.stderr)")
        #expect(result.stderr.contains("messageBufferBytes: must be a whole number from 1024 to 1073741824, not 4611686018427387904"))
        #expect(result.stderr.contains("messageBufferSize: must be a whole number from 1 to 1000000, not -9223372036854775808"))
    }
}
