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
    let cluster: ClusterNode?

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        addHealthRoutes(to: router)
        router.get("/v1/agents") { _, _ in
            jsonResponse(.array(catalog.entries.map { Self.agentJSON($0, registration: $0.agentType.flatMap(catalog.registry.registration(for:))) }))
        }
        router.get("/v1/sessions") { request, _ in try await listSessions(workspace: request.uri.queryParameters.get("workspace")) }
        router.post("/v1/sessions") { request, _ in try await startSession(request) }
        router.get("/v1/sessions/{id}") { _, context in try await showSession(try await resolve(context)) }
        router.get("/v1/sessions/{id}/messages") { request, context in
            let query = request.uri.queryParameters
            return try await messages(try await resolve(context), query: (query.get("after"), query.get("since"), query.get("limit")))
        }
        router.get("/v1/sessions/{id}/queue") { _, context in try await queue(try await resolve(context)) }
        router.delete("/v1/sessions/{id}/queue/{queueId}") { _, context in
            try await cancelQueued(try await resolve(context), queueId: try context.parameters.require("queueId"))
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

    /// The default and the largest page of `GET /v1/sessions/{id}/messages`.
    static let defaultHistoryPage = 500
    static let maximumHistoryPage = 5000

    /// `GET /v1/sessions/{id}/messages?after=N&limit=M` (`since` is the old name of `after`):
    /// the session's event log in `seq` order, live or only stored. A row the log cannot
    /// give back as a frame is left out, with a `system` frame (without `seq`) saying so.
    func messages(_ id: String, query: (after: String?, since: String?, limit: String?)) async throws -> Response {
        try await guarded {
            var after = -1
            if let text = query.after ?? query.since {
                // Int(_:) refuses what does not fit in 64 bits, fractions and exponents.
                guard let n = Int(text), n >= -1 else {
                    let name = query.after != nil ? "after" : "since"
                    throw APIError.badRequest("'\(name)' must be a sequence number, not \(InputRules.quoted(text)).")
                }
                after = n
            }
            var limit = Self.defaultHistoryPage
            if let text = query.limit {
                guard let n = Int(text), (1...Self.maximumHistoryPage).contains(n) else {
                    throw APIError.badRequest("'limit' must be a whole number from 1 to \(Self.maximumHistoryPage), not \(InputRules.quoted(text)).")
                }
                limit = n
            }
            let rows = try await manager.history(id, after: after, limit: limit)
            var body = "["
            body.reserveCapacity(rows.reduce(2) { $0 + $1.json.utf8.count + 1 })
            var first = true
            for row in rows {
                let text: String
                if (try? JSONValue(parsing: row.json))?.objectValue != nil {
                    text = row.json
                } else {
                    text = JSONValue.object([
                        "type": .string("system"),
                        "content": .string("Frame \(row.seq) of the history could not be read and is left out."),
                        "timestamp": .string(Timestamp.now()),
                    ]).jsonText
                }
                if !first { body += "," }
                first = false
                body += text
            }
            body += "]"
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    /// `GET /v1/sessions/{id}/queue`: the messages waiting, next first.
    func queue(_ id: String) async throws -> Response {
        try await guarded {
            let queued = try await manager.queuedMessages(id)
            return jsonResponse(.array(queued.enumerated().map { index, message in
                var object: [String: JSONValue] = [
                    "queueId": .string(message.queueId),
                    "content": .string(message.content),
                    "position": .int(index + 1),
                    "queuedAt": SessionJSON.time(message.queuedAt),
                ]
                if let id = message.clientMessageId { object["clientMessageId"] = .string(id) }
                return .object(object)
            }))
        }
    }

    /// `DELETE /v1/sessions/{id}/queue/{queueId}`: takes a queued message out before it is sent.
    func cancelQueued(_ id: String, queueId: String) async throws -> Response {
        try await guarded {
            try await manager.cancelQueued(id, queueId: queueId, by: "http")
            return Response(status: .noContent)
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
            let (mode, clientMessageId) = try body.sending()
            let result = try await manager.send(info.id, text: content, mode: mode, clientMessageId: clientMessageId)
            var object: [String: JSONValue] = [
                "sessionId": .string(info.id),
                "status": .string(result.queueId != nil && result.seq == nil ? "queued" : "running"),
                "seq": result.seq.map(JSONValue.int) ?? .null,
                "queueId": SessionJSON.optional(result.queueId),
                "duplicate": .bool(result.duplicate),
            ]
            if let position = result.position { object["position"] = .int(position) }
            if let clientMessageId { object["clientMessageId"] = .string(clientMessageId) }
            return jsonResponse(.object(object), status: .accepted)
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
