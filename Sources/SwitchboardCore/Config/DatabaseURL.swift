/// A PostgreSQL connection URL, `postgres://user:password@host:port/database?sslmode=…`,
/// parsed without any network access. Its ``description`` never shows the password.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (`sslmode`).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (the default).
        case prefer
        /// TLS, or no connection.
        case require
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port (5432 when the URL names none).
    public var port: Int
    /// The user to log in as (`postgres` when the URL names none).
    public var user: String
    /// The password, if the URL has one. Never printed.
    public var password: String?
    /// The database (the user's name when the URL names none).
    public var database: String
    /// The TLS mode.
    public var tls: TLSMode

    /// The default PostgreSQL port.
    public static let defaultPort = 5432

    /// Parses `text`.
    /// - Throws: ``DatabaseURL/Problem`` with a sentence that quotes the URL with its password
    ///   replaced by `***`.
    public init(parsing text: String) throws(Problem) {
        let shown = Self.redacting(text)
        func problem(_ reason: String) -> Problem { Problem(message: "'\(shown)' is not a PostgreSQL URL: \(reason)") }
        var rest = Substring(text)
        guard let schemeEnd = rest.firstRange(of: "://") else {
            throw problem("it must start with postgres:// or postgresql://")
        }
        let scheme = rest[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw problem("its scheme must be postgres or postgresql, not '\(scheme)'")
        }
        rest = rest[schemeEnd.upperBound...]
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = try Self.decode(info[..<colon], problem("its user name is not correctly percent-encoded"))
                password = try Self.decode(info[info.index(after: colon)...], problem("its password is not correctly percent-encoded"))
            } else {
                user = try Self.decode(info, problem("its user name is not correctly percent-encoded"))
            }
        }
        var host = rest
        var port = Self.defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw problem("its IPv6 address has no closing ']'") }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), problem) } else if !after.isEmpty { throw problem("unexpected text after the address") }
        } else if let colon = host.lastIndex(of: ":") {
            port = try Self.port(host[host.index(after: colon)...], problem)
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw problem("it names no host") }
        self.host = String(host)
        self.port = port
        self.user = user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        self.password = password
        let database = try Self.decode(path, problem("its database name is not correctly percent-encoded"))
        self.database = database.isEmpty ? self.user : database
        self.tls = .prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]), value = parts.count > 1 ? String(parts[1]) : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw problem("sslmode must be \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")), not '\(value)'")
                }
                self.tls = mode
            default:
                throw problem("the parameter '\(key)' is not supported (only sslmode)")
            }
        }
    }

    /// `host:port`, for messages.
    public var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL with its password replaced by `***`: safe for logs and messages.
    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(endpoint)/\(database)\(tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")"
    }

    /// `text` with whatever stands between the user name's colon and the `@` replaced by
    /// `***`: for quoting a URL that may not even parse.
    public static func redacting(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text.contains("@") ? "***" : text }
        let authorityEnd = text[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? text.endIndex
        let authority = text[schemeEnd.upperBound..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<authority.index(after: colon)]) + "***" + String(text[at...])
    }

    /// Why a URL could not be used.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The reason, quoting the URL without its password.
        public var message: String
        public var description: String { message }
    }

    private static func port(_ text: Substring, _ problem: (String) -> Problem) throws(Problem) -> Int {
        guard let n = Int(text), (1...65535).contains(n) else { throw problem("its port must be a number from 1 to 65535, not '\(text)'") }
        return n
    }

    /// Percent-decodes `text`.
    private static func decode(_ text: Substring, _ failure: @autoclosure () -> Problem) throws(Problem) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { throw failure() }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
