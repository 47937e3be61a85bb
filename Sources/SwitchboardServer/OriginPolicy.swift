import Hummingbird
import Synchronization
import SwitchboardCore

/// Which browser origins may drive the daemon: its own (`http://<host>:<port>` as it
/// listens, with `localhost`, `127.0.0.1` and `[::1]` standing for each other when it listens
/// on loopback or on every interface) and the configured `server.allowedOrigins`.
final class OriginPolicy: Sendable {
    let host: String
    let allowed: Set<String>
    /// The bound port, known once the server listens (the configured one may be 0).
    private let boundPort: Atomic<Int>

    init(host: String, port: Int, allowedOrigins: [String]) {
        self.host = host.lowercased()
        self.allowed = Set(allowedOrigins.compactMap { WebOrigin($0)?.text })
        self.boundPort = Atomic(port)
    }

    func listening(on port: Int) { boundPort.store(port, ordering: .relaxed) }

    private static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]

    /// Whether a request carrying `Origin: header` is accepted. Browsers send `http://…`,
    /// `https://…` or `null`; any other value (some WebSocket libraries send `ws://host`)
    /// cannot come from a browser page and is treated like no `Origin` at all.
    func accepts(_ header: String) -> Bool {
        let lowered = header.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered == "null" else { return true }
        guard let origin = WebOrigin(header) else { return false }
        if allowed.contains(origin.text) { return true }
        guard origin.scheme == "http", origin.port == boundPort.load(ordering: .relaxed) else { return false }
        let own = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if origin.host == own { return true }
        let servesLoopback = SwitchboardServer.isLoopback(host) || host == "0.0.0.0" || host == "::" || host == "[::]"
        return servesLoopback && Self.loopbackNames.contains(origin.host)
    }

    /// The refusal for a foreign origin.
    static func refusal(_ origin: String) -> APIError {
        APIError(.forbidden, "origin_not_allowed",
                 "The origin \(InputRules.quoted(origin)) is not allowed to use this daemon (see server.allowedOrigins).")
    }
}

/// Refuses browser requests from foreign origins on every state-changing route (`POST`,
/// `PUT`, `PATCH`, `DELETE`) and on the live-chat path. Requests without `Origin` (the CLI,
/// curl) pass.
struct OriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: OriginPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let origin = request.headers[.origin], Self.isGuarded(request), !policy.accepts(origin) {
            throw OriginPolicy.refusal(origin)
        }
        return try await next(request, context)
    }

    static func isGuarded(_ request: Request) -> Bool {
        switch request.method {
        case .post, .put, .patch, .delete: true
        default: request.uri.path.hasPrefix("/v1/live/")
        }
    }
}
