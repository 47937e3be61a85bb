import Hummingbird

/// Requires `Authorization: Bearer <token>` (the scheme in any case) on every route except
/// `/health` and the web page's files (`GET`/`HEAD` of `/` and `/ui/…`, which hold no
/// secret); `?token=<token>` is accepted instead only on the live-chat path, for browsers
/// opening a WebSocket, and only when there is no `Authorization` header.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        if request.method == .get || request.method == .head, WebPage.isPagePath(request.uri.path) {
            return try await next(request, context)
        }
        let presented: String?
        if let header = request.headers[.authorization] {
            presented = Self.bearerToken(in: header)
        } else if request.uri.path.hasPrefix("/v1/live/") {
            presented = request.uri.queryParameters.get("token")
        } else {
            if request.uri.queryParameters.get("token") != nil {
                throw APIError(.unauthorized, "unauthorized",
                               "The token may be given as ?token= only on the live-chat WebSocket path; send Authorization: Bearer <token>.")
            }
            presented = nil
        }
        guard let presented, AccessToken.matches(presented, token) else {
            throw APIError(.unauthorized, "unauthorized",
                           presented == nil ? "A bearer token is required (Authorization: Bearer <token>)." : "The bearer token is not valid.")
        }
        return try await next(request, context)
    }

    /// The credentials of `Bearer <token>`, the scheme compared without regard to case.
    static func bearerToken(in header: String) -> String? {
        let scheme = "bearer "
        guard header.utf8.count > scheme.utf8.count,
              String(decoding: header.utf8.prefix(scheme.utf8.count), as: UTF8.self).lowercased() == scheme
        else { return nil }
        return String(decoding: header.utf8.dropFirst(scheme.utf8.count), as: UTF8.self).trimmingLeadingSpaces
    }
}

extension String {
    fileprivate var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
}

/// Answers unknown routes with the API's JSON error instead of an empty 404.
struct NotFoundAsJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError(.notFound, "no_route", "There is no \(request.method) \(request.uri.path) route.")
        }
    }
}
