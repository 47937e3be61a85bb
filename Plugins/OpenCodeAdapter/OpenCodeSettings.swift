import SwitchboardAdapterAPI

/// The `opencode` agent's settings, read from the agent's `settings` object in the config.
///
/// Every key is optional:
/// - `command`: the `opencode` executable (default `opencode`, looked up on `PATH`);
/// - `hostname`: the address the server binds to on the host (default `127.0.0.1`);
/// - `username`, `password`: HTTP Basic credentials, passed to the server as
///   `OPENCODE_SERVER_USERNAME`/`OPENCODE_SERVER_PASSWORD` and sent with every request;
/// - `readyTimeoutSeconds`: how long the server may take to answer (default 30);
/// - `turnTimeoutSeconds`: how long one turn may take (default 600);
/// - `environment`: extra environment variables for the server (and for `docker`);
/// - `docker`: the docker executable for container sessions (default `docker`).
struct OpenCodeSettings: Sendable, Hashable {
    var command = "opencode"
    var hostname = "127.0.0.1"
    var username: String?
    var password: String?
    var readyTimeout: Duration = .seconds(30)
    var turnTimeout: Duration = .seconds(600)
    var environment: [String: String] = [:]
    var docker = "docker"

    static let knownKeys = ["command", "docker", "environment", "hostname", "password", "readyTimeoutSeconds", "turnTimeoutSeconds", "username"]

    init() {}

    init(_ settings: JSONValue) throws(AdapterError) {
        guard let object = settings.objectValue else {
            throw AdapterError(.invalidSettings, "settings must be an object, not \(settings.kindDescription)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.knownKeys.contains($0) }) {
            throw AdapterError(.invalidSettings, "settings.\(unknown): unknown setting (known: \(Self.knownKeys.joined(separator: ", ")))")
        }
        func string(_ key: String) throws(AdapterError) -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value.stringValue, !text.isEmpty else {
                throw AdapterError(.invalidSettings, "settings.\(key): must be a non-empty string, not \(value.kindDescription)")
            }
            return text
        }
        func seconds(_ key: String) throws(AdapterError) -> Duration? {
            guard let value = object[key] else { return nil }
            guard let number = value.doubleValue, number > 0, number <= 86_400 else {
                throw AdapterError(.invalidSettings, "settings.\(key): must be a number of seconds between 0 and 86400, not \(value.jsonText)")
            }
            return .milliseconds(Int64(number * 1000))
        }
        if let value = try string("command") { command = value }
        if let value = try string("hostname") { hostname = value }
        if let value = try string("docker") { docker = value }
        username = try string("username")
        password = try string("password")
        if username != nil && password == nil {
            throw AdapterError(.invalidSettings, "settings.username: needs settings.password (the server only checks credentials when a password is set)")
        }
        if let value = try seconds("readyTimeoutSeconds") { readyTimeout = value }
        if let value = try seconds("turnTimeoutSeconds") { turnTimeout = value }
        if let value = object["environment"] {
            guard let members = value.objectValue else {
                throw AdapterError(.invalidSettings, "settings.environment: must be an object of strings, not \(value.kindDescription)")
            }
            for (key, member) in members {
                guard let text = member.stringValue else {
                    throw AdapterError(.invalidSettings, "settings.environment.\(key): must be a string, not \(member.kindDescription)")
                }
                environment[key] = text
            }
        }
    }

    /// The `Authorization` header value, when a password is set.
    var authorization: String? {
        guard let password else { return nil }
        return "Basic " + Base64.encode(Array("\(username ?? "opencode"):\(password)".utf8))
    }
}

/// Standard base64, for the Basic auth header.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? table[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
