import Foundation
import Hummingbird
import SwitchboardAdapterAPI
import SwitchboardCore

/// The JSON HTTP API over the session manager and the store.
struct HTTPAPI: Sendable {
    let manager: SessionManager
    let store: any SessionStore
    let catalog: PluginCatalog
    let defaultAgentType: String
    let storeHealth: StoreHealthWatch

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        addHealthRoutes(to: router)
        router.get("/v1/agents") { _, _ in
            jsonResponse(.array(catalog.entries.map { Self.agentJSON($0, registration: $0.agentType.flatMap(catalog.registry.registration(for:))) }))
        }
        router.get("/v1/sessions") { request, _ in try await listSessions(workspace: request.uri.queryParameters.get("workspace")) }
        router.post("/v1/sessions") { request, _ in try await startSession(request) }
        router.get("/v1/sessions/{id}") { _, context in try await showSession(try await resolve(context)) }
        router.get("/v1/sessions/{id}/messages") { request, context in
            try await messages(try await resolve(context), since: request.uri.queryParameters.get("since"))
        }
        router.post("/v1/sessions/{id}/messages") { request, context in
            try await send(try await resolve(context), request)
        }
        router.post("/v1/sessions/{id}/interrupt") { _, context in
            try await interrupt(try await resolve(context))
        }
        router.put("/v1/sessions/{id}/model") { request, context in
            try await setModel(try await resolve(context), request)
        }
        router.delete("/v1/sessions/{id}") { _, context in try await delete(try await resolve(context)) }
        router.get("/v1/requests") { request, _ in try await listRequests(request) }
        router.get("/v1/requests/{id}") { _, context in try await showRequest(try context.parameters.require("id")) }
        router.post("/v1/requests/{id}") { request, context in
            try await answerRequest(try context.parameters.require("id"), request)
        }
    }

    static let health: JSONValue = .object(["status": .string("ok")])

    /// The `{id}` of a route, as written (not percent-decoded), as our session id: an
    /// agent's session id is mapped to ours (live first, then stored) without starting anything.
    func resolve(_ context: some RequestContext) async throws -> String {
        let id = try context.parameters.require("id")
        if await manager.info(id) != nil { return id }
        if let live = await manager.list().first(where: { $0.agentSessionId == id }) { return live.id }
        do {
            if try await store.get(id) != nil { return id }
            if let stored = try await store.find(agentSessionId: id) { return stored.id }
        } catch {
            throw APIError.from(error)
        }
        return id  // unknown: the route answers 404 with the id as given
    }

    static func agentJSON(_ entry: PluginCatalog.Entry, registration: AgentRegistration? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "agentType": entry.agentType.map(JSONValue.string) ?? .null,
            "plugin": entry.path.isEmpty ? .null : .string(entry.path),
            "pluginVersion": entry.plugin.map { .string($0.pluginVersion) } ?? .null,
            "abiVersion": entry.plugin.map { .int(Int($0.abiVersion)) } ?? .null,
            "displayName": entry.plugin.map { .string($0.displayName) } ?? .null,
            "toolchain": entry.plugin.map { .string($0.toolchain) } ?? .null,
        ]
        if case .loaded = entry.status {
            object["isolation"] = .string(entry.isolation.rawValue)
            if let isolation = registration?.isolation, registration?.plugin?.path == entry.path {
                let status = isolation.status
                object["helperPid"] = status.helperPID.map { .int(Int($0)) } ?? .null
                object["restarts"] = .int(status.restarts)
                object["crashes"] = .int(status.crashes)
                object["lastCrash"] = status.lastCrash.map(JSONValue.string) ?? .null
                object["backoffSeconds"] = status.backoffSeconds.map { .int($0) } ?? .null
            }
        }
        switch entry.status {
        case .loaded: object["status"] = .string("loaded")
        case .superseded(let why): object["status"] = .string("superseded"); object["reason"] = .string(why)
        case .failed(let why): object["status"] = .string("failed"); object["error"] = .string(why)
        }
        return .object(object)
    }

    private func guarded(_ body: () async throws -> Response) async throws -> Response {
        do { return try await body() } catch { throw APIError.from(error) }
    }

    func listSessions(workspace: String?) async throws -> Response {
        try await guarded {
            let live = await manager.list(workspace: workspace)
            var rows: [(Int64, JSONValue)] = []
            for info in live {
                rows.append((info.lastActivity, SessionJSON.live(info, clients: await manager.clientCount(info.id))))
            }
            let liveIDs = Set(live.map(\.id))
            for record in try await store.list(workspace: workspace) where !liveIDs.contains(record.id) {
                rows.append((record.lastActivity, SessionJSON.stored(record)))
            }
            rows.sort { $0.0 > $1.0 }
            return jsonResponse(.array(rows.map(\.1)))
        }
    }

    func showSession(_ id: String) async throws -> Response {
        try await guarded {
            if let info = await manager.info(id) {
                return jsonResponse(SessionJSON.live(info, clients: await manager.clientCount(id)))
            }
            guard let record = try await store.get(id) else { throw APIError.notFound(id) }
            return jsonResponse(SessionJSON.stored(record))
        }
    }

    func messages(_ id: String, since: String?) async throws -> Response {
        try await guarded {
            var after: Int?
            if let since {
                // Int(_:) refuses what does not fit in 64 bits, fractions and exponents.
                guard let n = Int(since), n >= -1 else {
                    throw APIError.badRequest("'since' must be a sequence number, not \(InputRules.quoted(since)).")
                }
                after = n
            }
            guard await manager.info(id) != nil else {
                // A stored session has no buffered messages; an unknown one is an error.
                guard try await store.get(id) != nil else { throw APIError.notFound(id) }
                return jsonResponse(.array([]))
            }
            return jsonResponse(.array(await manager.messages(id, after: after).map(SessionJSON.frameValue)))
        }
    }

    func startSession(_ request: Request) async throws -> Response {
        try await guarded {
            let body = try await jsonObject(from: request)
            guard let workspace = try body.string("workspace") else { throw APIError.badRequest("'workspace' is required.") }
            if let problem = WorkspaceName.problem(with: workspace) { throw APIError.badRequest(problem) }
            let sessionId = try body.string("sessionId")
            if let sessionId, let problem = InputRules.sessionIdProblem(sessionId) { throw APIError.badRequest(problem) }
            let agentType = try body.string("agentType")
            if let agentType, let problem = InputRules.agentTypeProblem(agentType) {
                throw APIError(.badRequest, "unknown_agent_type", problem)
            }
            let id = try await manager.start(SessionStartOptions(
                workspaceName: workspace,
                agentType: agentType ?? defaultAgentType,
                sessionId: sessionId,
                agentSessionId: try body.string("agentSessionId"),
                model: try body.string("model"),
                projectPath: try body.string("projectPath")
            ))
            guard let info = await manager.info(id) else { throw APIError.notFound(id) }
            return jsonResponse(SessionJSON.live(info, clients: 0), status: .created)
        }
    }

    /// The live session, restored from the store if needed.
    private func liveSession(_ id: String) async throws -> SessionInfo {
        guard let info = try await manager.find(id) else { throw APIError.notFound(id) }
        return info
    }

    func send(_ id: String, _ request: Request) async throws -> Response {
        try await guarded {
            let body = try await jsonObject(from: request)
            guard let content = try body.string("content"), !content.isEmpty else {
                throw APIError.badRequest("'content' is required and must not be empty.")
            }
            let info = try await liveSession(id)
            if let model = try body.string("model"), model != info.model {
                try await manager.setModel(info.id, model: model)
            }
            try await manager.send(info.id, text: content)
            return jsonResponse(.object(["sessionId": .string(info.id), "status": .string("running")]), status: .accepted)
        }
    }

    func interrupt(_ id: String) async throws -> Response {
        try await guarded {
            guard let info = await manager.info(id) else {
                if try await store.get(id) != nil {
                    throw APIError(.conflict, "not_live", "Session \(id) is not running.")
                }
                throw APIError.notFound(id)
            }
            await manager.interrupt(info.id)
            return jsonResponse(.object(["sessionId": .string(info.id), "status": .string(await manager.status(id)?.rawValue ?? "interrupted")]))
        }
    }

    func setModel(_ id: String, _ request: Request) async throws -> Response {
        try await guarded {
            let body = try await jsonObject(from: request)
            guard let model = try body.string("model"), !model.isEmpty else { throw APIError.badRequest("'model' is required.") }
            let info = try await liveSession(id)
            try await manager.setModel(info.id, model: model)
            return jsonResponse(.object(["sessionId": .string(info.id), "model": .string(model)]))
        }
    }

    func delete(_ id: String) async throws -> Response {
        try await guarded {
            let live = await manager.info(id) != nil
            let stored = try await store.get(id) != nil
            guard live || stored else { throw APIError.notFound(id) }
            await manager.dispose(id)
            try await store.delete(id)
            return Response(status: .noContent)
        }
    }
}
