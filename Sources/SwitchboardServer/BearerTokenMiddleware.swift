import Hummingbird

/// Requires `Authorization: Bearer <token>` (or `?token=<token>`, for browsers opening a
/// WebSocket) on every route except `/health`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let presented: String?
        if let header = request.headers[.authorization] {
            presented = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : nil
        } else {
            presented = request.uri.queryParameters.get("token")
        }
        guard let presented, AccessToken.matches(presented, token) else {
            throw APIError(.unauthorized, "unauthorized",
                           presented == nil ? "A bearer token is required (Authorization: Bearer <token>)." : "The bearer token is not valid.")
        }
        return try await next(request, context)
    }
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
