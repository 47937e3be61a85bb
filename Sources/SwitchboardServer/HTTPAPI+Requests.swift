import Hummingbird
import SwitchboardAdapterAPI
import SwitchboardCore

/// The "needs you" inbox: decision requests over HTTP.
extension HTTPAPI {
    /// `GET /v1/requests[?session=ID][&state=pending|resolved|expired|all][&limit=N]`: the
    /// pending requests of every live session (oldest first), or the audit log (newest first).
    func listRequests(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        do {
            let session: String? = query.get("session")
            if let session, let problem = InputRules.sessionIdProblem(session) { throw APIError.badRequest(problem) }
            let stateText: String = query.get("state") ?? "pending"
            let state: DecisionRecord.State?
            switch stateText {
            case "all": state = nil
            default:
                guard let s = DecisionRecord.State(rawValue: stateText) else {
                    throw APIError.badRequest("'state' must be pending, resolved, expired or all, not \(InputRules.quoted(stateText)).")
                }
                state = s
            }
            var limit = 100
            if let text = query.get("limit") {
                guard let n = Int(text), (1...DecisionQuery.maximumLimit).contains(n) else {
                    throw APIError.badRequest("'limit' must be a whole number from 1 to \(DecisionQuery.maximumLimit), not \(InputRules.quoted(text)).")
                }
                limit = n
            }
            if state == .pending {
                let pending = await manager.pendingDecisions(session: session).prefix(limit)
                return jsonResponse(.array(pending.map { p -> JSONValue in
                    var object = p.wireObject
                    object["state"] = .string("pending")
                    return .object(object)
                }))
            }
            let records = try await store.decisions(DecisionQuery(sessionId: session, state: state, limit: limit))
            return jsonResponse(.array(records.map(SessionJSON.record)))
        } catch {
            throw APIError.from(error)
        }
    }

    /// `GET /v1/requests/{id}`: one request, pending or from the audit log.
    func showRequest(_ id: String) async throws -> Response {
        do {
            if let problem = InputRules.requestIdProblem(id) { throw APIError.badRequest(problem) }
            if let pending = await manager.pendingDecision(id) {
                var object = pending.wireObject
                object["state"] = .string("pending")
                return jsonResponse(.object(object))
            }
            guard let record = try await store.decision(id) else { throw Self.requestNotFound(id) }
            return jsonResponse(SessionJSON.record(record))
        } catch {
            throw APIError.from(error)
        }
    }

    /// `POST /v1/requests/{id}` with `{"decision":"allow"}` (or a question's `answers`):
    /// 200 with the resolution; 409 `already_resolved`; 404 `not_found`; 400 `invalid_decision`.
    func answerRequest(_ id: String, _ request: Request) async throws -> Response {
        do {
            if let problem = InputRules.requestIdProblem(id) { throw APIError.badRequest(problem) }
            let body = try await jsonObject(from: request)
            let parsed = try body.decisionAnswer()
            let answers = await LiveChatConnection.answers(parsed.answers, single: parsed.single, for: id, manager: manager)
            let resolution = try await manager.answer(id, decision: parsed.decision, message: parsed.message, answers: answers, from: "http", firstAnswer: parsed.single)
            var object = resolution.wireObject
            object["state"] = .string("resolved")
            return jsonResponse(.object(object))
        } catch {
            throw APIError.from(error)
        }
    }

    static func requestNotFound(_ id: String) -> APIError {
        APIError(.notFound, "not_found", "No decision request has the id \(InputRules.escaped(id)).")
    }
}
