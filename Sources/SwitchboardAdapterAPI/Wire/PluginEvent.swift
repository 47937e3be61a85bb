/// One event as it crosses the plugin boundary (plugin → host), in JSON:
///
/// ```json
/// {"event":"message","request":3,"message":{"type":"assistant","content":"Hi","timestamp":"…"}}
/// {"event":"status","status":"running","agentSessionId":"abc"}
/// {"event":"error","error":"claude exited with code 1"}
/// {"event":"completed","request":3}
/// {"event":"failed","request":3,"error":"Codex adapter not yet implemented","code":"notImplemented"}
/// {"event":"ask","ask":{"id":"a1","kind":"permission","toolName":"Bash","input":{…},"summary":"touch x","options":["allow","deny"]}}
/// {"event":"withdraw","id":"a1","reason":"interrupt"}
/// ```
///
/// `request` ties an event to the host request it answers; it is optional except on
/// `completed` and `failed`. `error` and `failed` carry an ``AdapterError``: its message as
/// `error` and its code as the optional `code` — a short identifier (1 to 64 ASCII letters,
/// digits and `_`, starting with a letter). A missing or malformed `code` reads as
/// ``ErrorCode/plugin``, and `plugin` is not written. The plugin SDK writes these, the host
/// reads them; a plugin in another language writes the same text (see `switchboard_abi.h`).
package enum PluginEvent: Sendable, Hashable {
    case message(ChatMessage, request: UInt64?)
    case status(SessionStatus, agentSessionId: String?, request: UInt64?)
    case error(AdapterError, request: UInt64?)
    case completed(request: UInt64)
    case failed(request: UInt64, error: AdapterError)
    /// A decision request (see ``DecisionRequest``).
    case ask(DecisionRequest, request: UInt64?)
    /// A decision request withdrawn by the plugin.
    case withdraw(id: String, reason: DecisionWithdrawal, request: UInt64?)
}

extension PluginEvent {
    /// Writes the event as one JSON object.
    package func write(to w: inout JSONWriter) {
        switch self {
        case .message(let message, let request):
            w.appendRaw("{\"event\":\"message\"")
            Self.writeRequest(request, to: &w)
            w.appendRaw(",\"message\":")
            message.write(to: &w)
        case .status(let status, let agentSessionId, let request):
            w.appendRaw("{\"event\":\"status\"")
            Self.writeRequest(request, to: &w)
            w.appendRaw(",\"status\":\"")
            w.bytes.append(contentsOf: status.rawValue.utf8)
            w.appendByte(UInt8(ascii: "\""))
            if let agentSessionId {
                w.appendRaw(",\"agentSessionId\":")
                w.appendString(agentSessionId)
            }
        case .error(let error, let request):
            w.appendRaw("{\"event\":\"error\"")
            Self.writeRequest(request, to: &w)
            Self.writeError(error, to: &w)
        case .completed(let request):
            w.appendRaw("{\"event\":\"completed\"")
            Self.writeRequest(request, to: &w)
        case .failed(let request, let error):
            w.appendRaw("{\"event\":\"failed\"")
            Self.writeRequest(request, to: &w)
            Self.writeError(error, to: &w)
        case .ask(let ask, let request):
            w.appendRaw("{\"event\":\"ask\"")
            Self.writeRequest(request, to: &w)
            w.appendRaw(",\"ask\":")
            w.write(ask.jsonValue)
        case .withdraw(let id, let reason, let request):
            w.appendRaw("{\"event\":\"withdraw\"")
            Self.writeRequest(request, to: &w)
            w.appendRaw(",\"id\":")
            w.appendString(id)
            w.appendRaw(",\"reason\":")
            w.appendString(reason.rawValue)
        }
        w.appendByte(UInt8(ascii: "}"))
    }

    private static func writeRequest(_ request: UInt64?, to w: inout JSONWriter) {
        guard let request else { return }
        w.appendRaw(",\"request\":")
        w.appendInt(request)
    }

    /// `"error":"<message>"`, and `"code":"<code>"` unless the code is `plugin` (the default).
    private static func writeError(_ error: AdapterError, to w: inout JSONWriter) {
        w.appendRaw(",\"error\":")
        w.appendString(error.message)
        guard error.code != .plugin else { return }
        w.appendRaw(",\"code\":")
        w.appendString(error.code.name)
    }

    /// The event as JSON text.
    package var jsonText: String {
        var w = JSONWriter()
        write(to: &w)
        return w.string
    }

    /// Reads one event from the bytes a plugin passed to the callback.
    ///
    /// - Throws: ``JSONError`` for malformed JSON, an unknown `event`, or a missing field.
    package init(jsonBytes: UnsafeBufferPointer<UInt8>) throws(JSONError) {
        var reader = JSONReader(jsonBytes)
        var kind: Kind?
        var request: UInt64?
        var message: ChatMessage?
        var status: SessionStatus?
        var agentSessionId: String?
        var errorText: String?
        var code: AdapterError.Code?
        var ask: JSONValue?
        var id: String?
        var reason: String?
        try reader.readObjectKeys { (r: inout JSONReader, key: JSONKey) throws(JSONError) in
            switch key {
            case "event": kind = try Kind.read(from: &r)
            case "request": request = try r.consumeNull() ? nil : r.readUInt64()
            case "message": message = try ChatMessage.read(from: &r)
            case "status":
                let raw = try r.readString()
                guard let s = SessionStatus(rawValue: raw) else { throw r.error("unknown status '\(raw)'") }
                status = s
            case "agentSessionId": agentSessionId = try r.readOptionalString()
            case "error": errorText = try r.readString()
            case "code":
                // Optional: anything but a short identifier is ignored (the code is `plugin`).
                if r.peek() == UInt8(ascii: "\"") { code = AdapterError.Code(wireName: try r.readString()) } else { try r.skipValue() }
            case "ask": ask = try r.readValue()
            case "id": id = try r.readOptionalString()
            case "reason": reason = try r.readOptionalString()
            default: try r.skipValue()
            }
        }
        try reader.expectEnd()
        func missing(_ field: String) -> JSONError {
            JSONError(offset: 0, reason: "'\(kind?.rawValue ?? "?")' event has no '\(field)'")
        }
        switch kind {
        case .message:
            guard let message else { throw missing("message") }
            self = .message(message, request: request)
        case .status:
            guard let status else { throw missing("status") }
            self = .status(status, agentSessionId: agentSessionId, request: request)
        case .error:
            guard let errorText else { throw missing("error") }
            self = .error(AdapterError(code ?? .plugin, errorText), request: request)
        case .completed:
            guard let request else { throw missing("request") }
            self = .completed(request: request)
        case .failed:
            guard let request else { throw missing("request") }
            self = .failed(request: request, error: AdapterError(code ?? .plugin, errorText ?? "the plugin gave no reason"))
        case .ask:
            guard let ask else { throw missing("ask") }
            self = .ask(try DecisionRequest(json: ask), request: request)
        case .withdraw:
            guard let id else { throw missing("id") }
            self = .withdraw(id: id, reason: DecisionWithdrawal(wireName: reason ?? ""), request: request)
        case nil:
            throw JSONError(offset: 0, reason: "object has no 'event' field")
        }
    }
}

extension PluginEvent {
    /// The `event` names.
    enum Kind: String {
        case message, status, error, completed, failed, ask, withdraw

        static func read(from reader: inout JSONReader) throws(JSONError) -> Kind {
            let name = try reader.readName()
            switch name {
            case "message": return .message
            case "status": return .status
            case "error": return .error
            case "completed": return .completed
            case "failed": return .failed
            case "ask": return .ask
            case "withdraw": return .withdraw
            default: throw reader.error("unknown event '\(name.string)'")
            }
        }
    }
}
