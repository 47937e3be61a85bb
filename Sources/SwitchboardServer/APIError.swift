import Hummingbird
import SwitchboardAdapterAPI
import SwitchboardCore

/// An HTTP API error, rendered as `{"error":{"code":"…","message":"…"}}`.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code (`not_found`, `busy`, …).
    public var code: String
    /// A sentence for people.
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: JSONValue.object([
                "error": .object(["code": .string(code), "message": .string(message)]),
            ]).jsonText))
        )
    }

    static func notFound(_ id: String) -> APIError { APIError(.notFound, "not_found", "Session not found: \(InputRules.escaped(id))") }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }

    /// Maps what the core throws to a status and code.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as SessionError:
            switch e.code {
            case .notFound: return APIError(.notFound, "not_found", e.message)
            case .busy: return APIError(.conflict, "busy", e.message)
            case .hostWorkspaceDisabled: return APIError(.forbidden, "host_access_disabled", e.message)
            case .liveSessionLimit: return APIError(.serviceUnavailable, "too_many_sessions", e.message)
            case .requestNotFound: return APIError(.notFound, "not_found", e.message)
            case .alreadyResolved: return APIError(.conflict, "already_resolved", e.message)
            case .invalidDecision: return APIError(.badRequest, "invalid_decision", e.message)
            case .queueFull: return APIError(.tooManyRequests, "queue_full", e.message)
            case .queuedMessageNotFound: return APIError(.notFound, "not_found", e.message)
            case .lockedElsewhere: return APIError(.conflict, "locked_elsewhere", e.message)
            default: return APIError(.badGateway, "agent_failed", e.message)
            }
        case let e as RegistryError: return APIError(.badRequest, "unknown_agent_type", e.message)
        case let e as AdapterError: return APIError(.badGateway, "agent_failed", e.message)
        case let e as SessionStoreError where e.code == .unavailable: return APIError(.serviceUnavailable, "store_unavailable", e.message)
        case let e as SessionStoreError: return APIError(.internalServerError, "store_failed", e.message)
        default: return APIError(.internalServerError, "internal", String(describing: error))
        }
    }
}

/// A JSON response with status 200 (or the given one).
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: value.jsonText))
    )
}

/// Reads a request body as a JSON object, with a size limit.
func jsonObject(from request: Request, limit: Int = 1 << 20) async throws -> [String: JSONValue] {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch {
        throw APIError(.contentTooLarge, "too_large", "The request body is larger than \(limit) bytes.")
    }
    if buffer.readableBytes == 0 { return [:] }
    let value: JSONValue
    do {
        value = try buffer.readableBytesView.withContiguousStorageIfAvailable { try JSONValue(parsing: $0) }
            ?? JSONValue(parsing: String(buffer: buffer))
    } catch {
        throw APIError.badRequest("The request body is not valid JSON: \(error)")
    }
    guard let object = value.objectValue else {
        throw APIError.badRequest("The request body must be a JSON object, not \(value.kindDescription).")
    }
    return object
}

extension [String: JSONValue] {
    /// An optional string field; wrong types are a 400 naming the field.
    func string(_ key: String) throws -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw APIError.badRequest("'\(key)' must be a string, not \(value.kindDescription).") }
        return text
    }

    /// A decision answer's fields: `decision`, `message`, and the answers of a question —
    /// `answers` (an object of strings) or, for one question, `answer` (a string).
    func decisionAnswer() throws -> (decision: String?, message: String?, answers: [String: String], single: String?) {
        let decision = try string("decision")
        let message = try string("message")
        var answers: [String: String] = [:]
        if let value = self["answers"], value != .null {
            guard let map = value.objectValue else { throw APIError.badRequest("'answers' must be an object (question → answer), not \(value.kindDescription).") }
            for (question, answer) in map {
                guard let text = answer.stringValue else {
                    throw APIError.badRequest("The answer to \(InputRules.quoted(question)) must be a string, not \(answer.kindDescription).")
                }
                answers[question] = text
            }
        }
        return (decision, message, answers, try string("answer"))
    }

    /// A message's sending fields: `mode` (`queue`, the default, or `interrupt`) and
    /// `clientMessageId` (1 to 128 characters, no control characters).
    func sending() throws -> (mode: SendMode, clientMessageId: String?) {
        var mode = SendMode.queue
        if let raw = try string("mode") {
            guard let chosen = SendMode(rawValue: raw) else {
                throw APIError.badRequest("'mode' must be \"queue\" or \"interrupt\", not \(InputRules.quoted(raw)).")
            }
            mode = chosen
        }
        let id = try string("clientMessageId")
        if let id, let problem = InputRules.clientMessageIdProblem(id) { throw APIError.badRequest(problem) }
        return (mode, id)
    }

    /// An optional integer field.
    func int(_ key: String) throws -> Int? {
        guard let value = self[key], value != .null else { return nil }
        guard let n = value.intValue else {
            throw APIError.badRequest("'\(key)' must be a whole number, not \(InputRules.escaped(value.jsonText)).")
        }
        return n
    }
}
