import SwitchboardAdapterAPI

/// The `opencode` agent's settings, read from the agent's `settings` object in the config.
///
/// Every key is optional:
/// - `binary`: the `opencode` executable (default `opencode`, looked up on `PATH`);
/// - `hostname`: the address the server binds to on the host (default `127.0.0.1`);
/// - `username`, `password`: HTTP Basic credentials, passed to the server as
///   `OPENCODE_SERVER_USERNAME`/`OPENCODE_SERVER_PASSWORD` and sent with every request;
/// - `readyTimeoutSeconds`: how long the server may take to answer (default 30);
/// - `turnTimeoutSeconds`: how long one turn may take (default 600);
/// - `env`: extra environment variables for the server (and for `docker`);
/// - `docker`: the docker executable for container sessions (default `docker`).
///
/// The keys `command` and `environment` were renamed to `binary` and `env`; the old names
/// are refused with a message naming the new one.
struct OpenCodeSettings: Sendable, Hashable {
    /// The `opencode` executable (key `binary`).
    var command = "opencode"
    var hostname = "127.0.0.1"
    var username: String?
    var password: String?
    var readyTimeout: Duration = .seconds(30)
    var turnTimeout: Duration = .seconds(600)
    /// Extra environment variables (key `env`).
    var environment: [String: String] = [:]
    var docker = "docker"

    static let knownKeys = ["binary", "docker", "env", "hostname", "password", "readyTimeoutSeconds", "turnTimeoutSeconds", "username"]

    /// Keys of earlier versions, each with the key that replaced it.
    static let renamedKeys = ["command": "binary", "environment": "env"]

    init() {}

    /// Reads and checks the settings object.
    /// - Throws: ``AdapterError`` (`invalidSettings`) naming the key and the problem.
    init(_ settings: JSONValue) throws(AdapterError) {
        let r = try SettingsReader(settings, known: Self.knownKeys, renamed: Self.renamedKeys)
        command = try r.nonEmptyString("binary") ?? command
        hostname = try r.nonEmptyString("hostname") ?? hostname
        docker = try r.nonEmptyString("docker") ?? docker
        username = try r.nonEmptyString("username")
        password = try r.nonEmptyString("password")
        if username != nil && password == nil {
            throw r.invalid("username", "needs \(r.keyPath("password")) (the server only checks credentials when a password is set)")
        }
        readyTimeout = try r.seconds("readyTimeoutSeconds", in: 0...86_400) ?? readyTimeout
        turnTimeout = try r.seconds("turnTimeoutSeconds", in: 0...86_400) ?? turnTimeout
        environment = try r.environment("env") ?? environment
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
