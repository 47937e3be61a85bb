import Foundation
import Hummingbird
import SwitchboardAdapterAPI

/// The routes that answer permission requests and questions, per generation (``FakeProtocol``):
/// the old `POST /session/:id/permissions/:permissionID` (every generation; deprecated in
/// the new one), `POST /permission/:id/reply`, `GET /permission`, and the question routes.
/// Reply bodies are logged as `REPLY <path> <body>`.
func addRequestRoutes(to router: Router<BasicRequestContext>, state: FakeOpenCodeState) {
    let version = state.options.version

    @Sendable func invalid(_ message: String) -> Response {
        json(.object(["name": .string("BadRequest"), "data": .object(["message": .string(message)])]), status: .badRequest)
    }

    /// An unknown id: `true` up to 1.2 (the server ignores it), 404 from 1.15 on.
    @Sendable func unknown(_ id: String, _ tag: String, _ what: String) -> Response {
        guard version.strictRequests else { return json(.bool(true)) }
        return json(.object(["_tag": .string(tag), "requestID": .string(id), "message": .string("\(what) not found: \(id)")]), status: .notFound)
    }

    @Sendable func readBody(_ request: Request, _ path: String) async throws -> JSONValue? {
        let text = try await body(request)
        await state.log("REPLY \(path) \(text)")
        return try? JSONValue(parsing: text)
    }

    router.post("/session/{id}/permissions/{permissionID}") { request, context in
        let id = context.parameters.get("permissionID") ?? ""
        let session = context.parameters.get("id") ?? ""
        let value = try await readBody(request, request.uri.path)
        guard let response = value?["response"]?.stringValue, ["once", "always", "reject"].contains(response) else {
            return invalid("response must be one of once, always, reject")
        }
        // The old server finds the request under its session; either way the answer is `true`.
        if version.legacyPermissions, await state.listed[id]?.session != session { return json(.bool(true)) }
        _ = await state.replyPermission(id, reply: response, message: nil)
        return json(.bool(true))
    }
    router.get("/permission") { _, _ in json(.array(await state.listedRequests(.permission))) }

    guard !version.legacyPermissions else { return }
    router.post("/permission/{id}/reply") { request, context in
        let id = context.parameters.get("id") ?? ""
        let value = try await readBody(request, request.uri.path)
        guard let reply = value?["reply"]?.stringValue, ["once", "always", "reject"].contains(reply) else {
            return invalid("reply must be one of once, always, reject")
        }
        guard await state.replyPermission(id, reply: reply, message: value?["message"]?.stringValue) else {
            return unknown(id, "PermissionNotFoundError", "Permission request")
        }
        return json(.bool(true))
    }

    guard version.questions else { return }
    router.get("/question") { _, _ in json(.array(await state.listedRequests(.question))) }
    router.post("/question/{id}/reply") { request, context in
        let id = context.parameters.get("id") ?? ""
        let value = try await readBody(request, request.uri.path)
        guard let list = value?["answers"]?.arrayValue else { return invalid("answers must be an array of arrays of strings") }
        var answers: [[String]] = []
        for item in list {
            guard let labels = item.arrayValue?.compactMap(\.stringValue), labels.count == item.arrayValue?.count else {
                return invalid("answers must be an array of arrays of strings")
            }
            answers.append(labels)
        }
        guard await state.settleQuestion(id, answers: answers) else { return unknown(id, "QuestionNotFoundError", "Question request") }
        return json(.bool(true))
    }
    router.post("/question/{id}/reject") { request, context in
        let id = context.parameters.get("id") ?? ""
        _ = try await readBody(request, request.uri.path)
        guard await state.settleQuestion(id, answers: nil) else { return unknown(id, "QuestionNotFoundError", "Question request") }
        return json(.bool(true))
    }
}
