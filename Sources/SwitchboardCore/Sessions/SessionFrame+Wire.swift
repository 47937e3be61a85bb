import SwitchboardAdapterAPI

/// The wire form of frames — what WebSocket clients receive and the event log keeps — and
/// reading it back from the log.
extension SessionFrame {
    /// The JSON text of `content`, with `seq` when it has one.
    static func encode(_ content: Content, seq: Int?, timestamp: String) -> String {
        switch content {
        case .message(let message):
            return messageText(message, seq: seq)
        case .notice(let notice):
            return messageText(ChatMessage(type: .system, content: notice.wireText, timestamp: timestamp), seq: seq)
        case .decision(let decision):
            var object = decision.wireObject
            if let seq { object["seq"] = .int(seq) }
            object["timestamp"] = .string(timestamp)
            return JSONValue.object(object).jsonText
        case .queue(let queue):
            var object = queue.wireObject
            if let seq { object["seq"] = .int(seq) }
            object["timestamp"] = .string(timestamp)
            return JSONValue.object(object).jsonText
        }
    }

    /// A chat message's fields plus `seq`, as clients of the original read them.
    private static func messageText(_ message: ChatMessage, seq: Int?) -> String {
        message.wireText(seq: seq)
    }

    /// Reads a frame the event log kept.
    /// - Throws: ``JSONError`` when the text is not the frame its kind says.
    public init(logged: LoggedFrame) throws(JSONError) {
        let content: Content
        let timestamp: String
        switch logged.kind {
        case .message, .notice:
            var message = try ChatMessage(jsonText: logged.json)
            message.extra["seq"] = nil
            timestamp = message.timestamp
            if logged.kind == .message {
                content = .message(message)
            } else {
                guard let notice = SessionNotice(wireText: message.content) else {
                    throw JSONError(offset: 0, reason: "frame \(logged.seq) is not a notice this build knows")
                }
                content = .notice(notice)
            }
        case .decision:
            let value = try JSONValue(parsing: logged.json)
            content = .decision(try DecisionFrame(wire: value))
            timestamp = value["timestamp"]?.stringValue ?? Timestamp.now()
        case .queue:
            let value = try JSONValue(parsing: logged.json)
            content = .queue(try QueueFrame(wire: value))
            timestamp = value["timestamp"]?.stringValue ?? Timestamp.now()
        }
        self.init(seq: logged.seq, content: content, timestamp: timestamp, wireText: logged.json)
    }

    /// The frame as the event log keeps it.
    func logged(in sessionId: String, at time: Int64) -> LoggedFrame? {
        guard let seq else { return nil }
        return LoggedFrame(sessionId: sessionId, seq: seq, kind: logKind, json: wireText, createdAt: time)
    }
}

extension SessionNotice {
    /// The notice a logged `system` message's text is: `{"status":…}` or `{"agentSessionId":…}`.
    init?(wireText text: String) {
        guard let object = (try? JSONValue(parsing: text))?.objectValue, object.count == 1 else { return nil }
        if let raw = object["status"]?.stringValue, let status = SessionStatus(rawValue: raw) {
            self = .status(status)
        } else if let id = object["agentSessionId"]?.stringValue {
            self = .agentSessionId(id)
        } else {
            return nil
        }
    }
}

/// Milliseconds since 1970 as the wire's ISO-8601 timestamps.
enum WireTime {
    static func text(_ epochMilliseconds: Int64) -> String {
        let (seconds, millis) = epochMilliseconds.quotientAndRemainder(dividingBy: 1000)
        return Timestamp.format(seconds: Int(seconds), milliseconds: Int(millis))
    }

    static func value(_ epochMilliseconds: Int64) -> JSONValue { .string(text(epochMilliseconds)) }

    static func read(_ value: JSONValue?) -> Int64? {
        value?.stringValue.flatMap(ISO8601Milliseconds.parse)
    }
}
