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

    /// With a cluster, the answer also has `"cluster":{"nodeId":…,"leases":N,"renewedAgoMs":…}`,
    /// and is `503` with the reason while the node could not renew its leases in time.
    private func healthAnswer() async -> (HTTPResponse.Status, JSONValue) {
        var body: [String: JSONValue] = ["store": .string(storeHealth.store.storeKind)]
        var problem = await storeHealth.check().problem
        if let cluster {
            let health = await cluster.health()
            var node: [String: JSONValue] = [
                "nodeId": .string(health.nodeId), "leases": .int(health.leases),
                "renewedAgoMs": health.renewedAgo.map { .int(Int($0)) } ?? .null,
            ]
            if let lost = health.problem {
                node["problem"] = .string(lost)
                problem = problem ?? "This node does not hold its sessions' leases: \(lost)."
            }
            body["cluster"] = .object(node)
        }
        guard let problem else {
            body["status"] = .string("ok")
            return (.ok, .object(body))
        }
        body["status"] = .string("unavailable")
        body["reason"] = .string(problem)
        return (.serviceUnavailable, .object(body))
    }
}
