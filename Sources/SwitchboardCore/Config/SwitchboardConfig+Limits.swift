import SwitchboardAdapterAPI

/// The daemon's connection limits (the `server.maxConnections`, `…TimeoutSeconds`,
/// `pingIntervalSeconds` and `maxHeaderBytes` keys) and the live-session limits
/// (`sessionIdleMinutes`, `maxLiveSessions`): their defaults, ranges and parsing.
public struct ConnectionLimits: Sendable, Hashable {
    /// How many connections (HTTP and WebSocket) may be open at once.
    public var maxConnections: Int = 512
    /// How long a client has to send a complete request head after connecting.
    public var headerTimeoutSeconds: Int = 10
    /// How long a keep-alive connection may wait for its next request.
    public var idleTimeoutSeconds: Int = 60
    /// How often a WebSocket peer is pinged; one that has not answered a ping by the next is
    /// disconnected.
    public var pingIntervalSeconds: Int = 30
    /// The largest request head (request line and header fields), in bytes.
    public var maxHeaderBytes: Int = 32 * 1024

    public init() {}

    /// These limits with each value brought into its documented range (the config refuses
    /// values outside it; limits set in code are clamped where they are used).
    public func clamped() -> ConnectionLimits {
        var limits = self
        for (_, range, path) in Self.ranges {
            limits[keyPath: path] = Swift.min(Swift.max(limits[keyPath: path], range.lowerBound), range.upperBound)
        }
        return limits
    }

    /// The accepted range of each key, by its name inside `server`.
    static let ranges: [(key: String, range: ClosedRange<Int>, path: any WritableKeyPath<ConnectionLimits, Int> & Sendable)] = [
        ("maxConnections", 1...65536, \.maxConnections),
        ("headerTimeoutSeconds", 1...300, \.headerTimeoutSeconds),
        ("idleTimeoutSeconds", 1...3600, \.idleTimeoutSeconds),
        ("pingIntervalSeconds", 1...3600, \.pingIntervalSeconds),
        ("maxHeaderBytes", 1024...1_048_576, \.maxHeaderBytes),
    ]
}

extension SwitchboardConfig {
    /// The default `sessionIdleMinutes`: a day.
    public static let defaultSessionIdleMinutes = 24 * 60
    /// The range of `sessionIdleMinutes` (a minute to a year).
    public static let sessionIdleMinutesRange = 1...525_600
    /// The default `maxLiveSessions`.
    public static let defaultMaxLiveSessions = 256
    /// The range of `maxLiveSessions`.
    public static let maxLiveSessionsRange = 1...100_000

    /// Reads the limit keys of the top level and of `server` (the keys themselves are listed
    /// in ``topLevelKeys`` and ``serverKeys``).
    static func parseLimits(
        _ object: [String: JSONValue],
        into config: inout SwitchboardConfig,
        issue: (String, String) -> Void
    ) {
        func integer(_ value: JSONValue, _ keyPath: String, _ range: ClosedRange<Int>) -> Int? {
            if let n = value.intValue, range.contains(n) { return n }
            issue(keyPath, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(value.jsonText)")
            return nil
        }
        if let value = object["sessionIdleMinutes"], let n = integer(value, "sessionIdleMinutes", sessionIdleMinutesRange) {
            config.sessionIdleMinutes = n
        }
        if let value = object["maxLiveSessions"], let n = integer(value, "maxLiveSessions", maxLiveSessionsRange) {
            config.maxLiveSessions = n
        }
        guard let server = object["server"]?.objectValue else { return }
        for (key, range, path) in ConnectionLimits.ranges {
            if let value = server[key], let n = integer(value, "server.\(key)", range) {
                config.server.limits[keyPath: path] = n
            }
        }
    }
}
