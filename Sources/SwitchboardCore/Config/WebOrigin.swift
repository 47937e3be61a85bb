/// A web origin — scheme, host and port — as browsers send it in the `Origin` header, e.g.
/// `http://127.0.0.1:7391`. Used for `server.allowedOrigins` and by the daemon's origin check.
public struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lowercased.
    public var scheme: String
    /// The host, lowercased; an IPv6 address keeps its brackets (`[::1]`).
    public var host: String
    /// The port, explicit or the scheme's default (80, 443).
    public var port: Int

    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated); `nil` for anything else,
    /// including `null`, paths, queries, user info and ports outside 1…65535.
    public init?(_ text: String) {
        guard text.utf8.count <= 512 else { return nil }
        var rest = Substring(text.lowercased())
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let scheme: String
        if rest.hasPrefix("http://") { scheme = "http"; rest = rest.dropFirst(7) }
        else if rest.hasPrefix("https://") { scheme = "https"; rest = rest.dropFirst(8) }
        else { return nil }
        var host = rest
        var port = scheme == "https" ? 443 : 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let n = Self.port(after.dropFirst()) else { return nil }
                port = n
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let n = Self.port(rest[rest.index(after: colon)...]) else { return nil }
            port = n
        }
        let allowed = host.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" || c == "." || c == "[" || c == "]" || c == ":"
        }
        guard !host.isEmpty, allowed else { return nil }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
    }

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    private static func port(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(text), (1...65535).contains(n) else { return nil }
        return n
    }

    /// The canonical text: `scheme://host:port`, the port always written.
    public var text: String { "\(scheme)://\(host):\(port)" }

    public var description: String { text }
}
