import Hummingbird
import SwitchboardAdapterAPI
import SwitchboardCore

extension HTTPAPI {
    /// `GET` and `HEAD /health`: `200` `{"status":"ok","store":"<kind>"}`, or `503`
    /// `{"reason":"…","status":"unavailable","store":"<kind>"}` while the session store cannot
    /// keep writes (its file removed or replaced, its database unreachable).
    func addHealthRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/health") { _, _ in
            let (status, body) = await healthAnswer()
            return jsonResponse(body, status: status)
        }
        router.head("/health") { _, _ in
            // Like GET, without the body.
            let (status, body) = await healthAnswer()
            return Response(status: status, headers: [.contentType: "application/json", .contentLength: "\(body.jsonText.utf8.count)"])
        }
    }

    private func healthAnswer() async -> (HTTPResponse.Status, JSONValue) {
        let kind = JSONValue.string(storeHealth.store.storeKind)
        guard let problem = await storeHealth.check().problem else {
            return (.ok, .object(["status": .string("ok"), "store": kind]))
        }
        return (.serviceUnavailable, .object(["status": .string("unavailable"), "store": kind, "reason": .string(problem)]))
    }
}
