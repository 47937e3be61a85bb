import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

/// One ACP agent process and the JSON-RPC 2.0 conversation with it over stdio, one message
/// per line.
///
/// - Both sides number their requests independently, and agents start at 0: a message is
///   routed by its shape, never by its id. `method` + `id` is a request from the agent,
///   `method` alone a notification, `id` with `result` or `error` the response to one of
///   ours. Incoming messages go to ``Handler`` in order, on the reading task.
/// - A line that is not one of those shapes (not JSON, not an object, a response to an id we
///   never sent) is skipped and counted (``skippedLines``); it never ends the conversation.
/// - ``request(_:_:timeout:whenAnswered:)`` waits for the response with a deadline; the
///   process's exit fails every waiting and later request.
final class ACPConnection: Sendable {
    /// A message the agent sent on its own.
    enum Incoming: Sendable {
        /// A notification: `{"method":…,"params":…}`.
        case notification(method: String, params: JSONValue)
        /// A request the client must answer: `{"method":…,"id":…,"params":…}`.
        case request(id: JSONValue, method: String, params: JSONValue)
    }

    /// What the connection reports: incoming messages and the process's end.
    struct Handler: Sendable {
        var incoming: @Sendable (Incoming) -> Void
        var exited: @Sendable (ProcessExit) -> Void
    }

    /// The connection's own words for what went wrong, and the agent's error responses.
    struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Why the request has no answer, when the agent did not answer with an error.
        enum Reason: Sendable, Equatable {
            /// The agent answered with a JSON-RPC error.
            case response
            /// No answer within the deadline.
            case timeout
            /// The process is gone.
            case exited
            /// The waiting task was cancelled.
            case cancelled
        }

        var reason: Reason
        /// The JSON-RPC error code, when the agent answered with one.
        var code: Int?
        /// The agent's message (with its `data` when that says more), or what went wrong.
        var message: String
        var description: String { message }

        /// ACP's "Authentication required": the agent is not signed in or not configured.
        var isAuthenticationRequired: Bool { reason == .response && code == -32000 }
        /// JSON-RPC's "Method not found".
        var isMethodNotFound: Bool { reason == .response && code == -32601 }
    }

    private struct State {
        var process: AgentProcess?
        var nextId = 1
        var pending: [Int: (answer: OneShot<Result<JSONValue, RPCError>>, hook: (@Sendable (Bool) -> Void)?)] = [:]
        var exit: ProcessExit?
    }

    /// What the agent is called in messages: `fast-agent-acp`.
    let name: String
    private let state = Mutex(State())
    private let skipped = Atomic<Int>(0)
    private let handler: Handler

    private init(name: String, handler: Handler) {
        self.name = name
        self.handler = handler
    }

    /// Starts `launch` and returns the connection to it (the handshake is the caller's).
    /// - Throws: ``AdapterError`` (`agentFailure`) when the process cannot be started.
    static func start(_ launch: ProcessLaunch, name: String, options: AgentProcess.Options, handler: Handler) async throws(AdapterError) -> ACPConnection {
        let connection = ACPConnection(name: name, handler: handler)
        let process = try await AgentProcess.start(
            launch, options: options,
            onLine: { [weak connection] line in connection?.receive(line) },
            onExit: { [weak connection] exit in
                if let connection { connection.ended(exit) } else { handler.exited(exit) }
            }
        )
        connection.state.withLock { $0.process = process }
        return connection
    }

    /// The process.
    var process: AgentProcess? { state.withLock { $0.process } }

    /// How it ended, once it has been reaped.
    var exit: ProcessExit? { state.withLock { $0.exit } }

    /// Output lines skipped so far because they were not protocol messages.
    var skippedLines: Int { skipped.load(ordering: .relaxed) }

    // MARK: - Sending

    /// Sends a request and waits for its response.
    /// - Parameter whenAnswered: called on the reading task as the response arrives, before
    ///   the waiter wakes — so that what it records is in place before the next message is
    ///   read (e.g. "the replay of `session/load` is over"). Its argument says whether the
    ///   response was a success.
    /// - Returns: the `result`, or an ``RPCError``: the agent's error response, a timeout,
    ///   the process's exit, or cancellation.
    func request(_ method: String, _ params: JSONValue, timeout: Duration,
                 whenAnswered hook: (@Sendable (Bool) -> Void)? = nil) async -> Result<JSONValue, RPCError> {
        let answer = OneShot<Result<JSONValue, RPCError>>()
        let (id, process, exit) = state.withLock { s -> (Int, AgentProcess?, ProcessExit?) in
            let id = s.nextId
            s.nextId &+= 1
            if s.exit == nil { s.pending[id] = (answer, hook) }
            return (id, s.process, s.exit)
        }
        if let exit { return .failure(exitError(exit)) }
        process?.write(Self.line(.object([
            "jsonrpc": .string("2.0"), "id": .int(id), "method": .string(method), "params": params,
        ])))
        let result = await answer.wait(within: timeout)
        state.withLock { _ = $0.pending.removeValue(forKey: id) }
        if let result { return result }
        if Task.isCancelled { return .failure(RPCError(reason: .cancelled, message: "The \(method) request was cancelled.")) }
        return .failure(RPCError(reason: .timeout, message: "\(name) did not answer \(method) within \(Self.describe(timeout))."))
    }

    /// Sends a notification (no response).
    func notify(_ method: String, _ params: JSONValue) {
        process?.write(Self.line(.object(["jsonrpc": .string("2.0"), "method": .string(method), "params": params])))
    }

    /// Answers a request of the agent's with a result.
    func respond(to id: JSONValue, result: JSONValue) {
        process?.write(Self.line(.object(["jsonrpc": .string("2.0"), "id": id, "result": result])))
    }

    /// Answers a request of the agent's with an error.
    func respond(to id: JSONValue, errorCode: Int, message: String) {
        let error = JSONValue.object(["code": .int(errorCode), "message": .string(message)])
        process?.write(Self.line(.object(["jsonrpc": .string("2.0"), "id": id, "error": error])))
    }

    /// One message as the line that carries it.
    static func line(_ message: JSONValue) -> [UInt8] {
        var bytes = Array(message.jsonText.utf8)
        bytes.append(0x0A)
        return bytes
    }

    // MARK: - Receiving

    private func receive(_ line: ProcessLine) {
        guard case .text(let bytes) = line else {
            skipped.add(1, ordering: .relaxed)
            return
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let message = try? JSONValue(parsing: bytes), let object = message.objectValue else {
            skipped.add(1, ordering: .relaxed)
            return
        }
        switch Self.classify(object) {
        case .incoming(let incoming):
            handler.incoming(incoming)
        case .response(let id, let result):
            let (waiter, ours) = state.withLock { s in (s.pending.removeValue(forKey: id), id > 0 && id < s.nextId) }
            guard let waiter else {
                // A response to a request that stopped waiting (a deadline, a cancelled turn) is
                // no malformed line; one to an id never sent is.
                if !ours { skipped.add(1, ordering: .relaxed) }
                return
            }
            if case .success = result { waiter.hook?(true) } else { waiter.hook?(false) }
            waiter.answer.set(result)
        case nil:
            skipped.add(1, ordering: .relaxed)
        }
    }

    /// What one message is.
    enum Classified {
        case incoming(Incoming)
        case response(id: Int, Result<JSONValue, RPCError>)
    }

    /// What one protocol message is, or `nil` when it is none of the three shapes.
    static func classify(_ object: [String: JSONValue]) -> Classified? {
        let params = object["params"] ?? .null
        if let method = object["method"]?.stringValue {
            if let id = object["id"], id != .null { return .incoming(.request(id: id, method: method, params: params)) }
            return .incoming(.notification(method: method, params: params))
        }
        guard let id = object["id"]?.intValue else { return nil }
        if let error = object["error"] {
            return .response(id: id, .failure(RPCError(reason: .response, code: error["code"]?.intValue, message: errorText(error))))
        }
        guard let result = object["result"] else { return nil }
        return .response(id: id, .success(result))
    }

    /// An error object's message, with its `data` when that is a sentence of its own or has
    /// a message (`Internal error: Could not resolve authentication method…`).
    static func errorText(_ error: JSONValue) -> String {
        let message = error["message"]?.stringValue ?? error.jsonText
        let detail: String? = switch error["data"] {
        case .string(let text)?: text
        case .object(let data)?: data["message"]?.stringValue ?? data["details"]?.stringValue ?? data["error"]?.stringValue
        default: nil
        }
        guard let detail, !detail.isEmpty, detail != message else { return message }
        return "\(message): \(detail)"
    }

    private func exitError(_ exit: ProcessExit) -> RPCError {
        RPCError(reason: .exited, message: "\(name) \(exit.descriptionWithStderr)")
    }

    private func ended(_ exit: ProcessExit) {
        let waiters = state.withLock { s -> [OneShot<Result<JSONValue, RPCError>>] in
            s.exit = exit
            defer { s.pending = [:] }
            return s.pending.values.map(\.answer)
        }
        let failure = exitError(exit)
        for waiter in waiters { waiter.set(.failure(failure)) }
        handler.exited(exit)
    }

    /// `5 s`, `1.5 s`, `250 ms`: a duration for messages.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
