import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

/// One `codex app-server` process and the JSON-RPC 2.0 conversation with it over stdio.
///
/// - Lines are classified by their keys, as the server writes them (it omits `"jsonrpc"`):
///   `method` + `id` is a server request, `method` alone a notification, `id` alone the
///   response to one of ours. Both kinds of incoming messages go to ``Handler`` in order,
///   on the reading task.
/// - A line that is not a JSON object of one of those shapes is skipped and counted
///   (``skippedLines``); it never ends the conversation.
/// - ``request(_:_:timeout:)`` waits for the response with a deadline; the process's exit
///   fails every waiting and later request.
final class CodexConnection: Sendable {
    /// A message the server sent on its own.
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

    /// An error response, or no response at all.
    struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The JSON-RPC error code, when the server answered with one.
        var code: Int?
        /// The server's message, or what went wrong instead.
        var message: String
        var description: String { message }
    }

    private struct State {
        var process: AgentProcess?
        var nextId = 1
        var pending: [Int: OneShot<Result<JSONValue, RPCError>>] = [:]
        var exit: ProcessExit?
    }

    private let state = Mutex(State())
    private let skipped = Atomic<Int>(0)
    private let handler: Handler

    private init(handler: Handler) { self.handler = handler }

    /// Starts `launch` and returns the connection to it (the handshake is the caller's).
    /// - Throws: ``AdapterError`` (`agentFailure`) when the process cannot be started.
    static func start(_ launch: ProcessLaunch, options: AgentProcess.Options, handler: Handler) async throws(AdapterError) -> CodexConnection {
        let connection = CodexConnection(handler: handler)
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
    /// - Returns: the `result`, or an ``RPCError`` for an error response, a timeout, the
    ///   process's exit or cancellation.
    func request(_ method: String, _ params: JSONValue, timeout: Duration) async -> Result<JSONValue, RPCError> {
        let answer = OneShot<Result<JSONValue, RPCError>>()
        let (id, process, exit) = state.withLock { s -> (Int, AgentProcess?, ProcessExit?) in
            let id = s.nextId
            s.nextId &+= 1
            if s.exit == nil { s.pending[id] = answer }
            return (id, s.process, s.exit)
        }
        if let exit { return .failure(RPCError(message: "codex app-server \(exit.descriptionWithStderr)")) }
        process?.write(Self.line(.object(["id": .int(id), "method": .string(method), "params": params])))
        let result = await answer.wait(within: timeout)
        state.withLock { _ = $0.pending.removeValue(forKey: id) }
        if let result { return result }
        if Task.isCancelled { return .failure(RPCError(message: "The \(method) request was cancelled.")) }
        return .failure(RPCError(message: "codex app-server did not answer \(method) within \(timeout)."))
    }

    /// Sends a notification (no response).
    func notify(_ method: String, _ params: JSONValue? = nil) {
        var message: [String: JSONValue] = ["method": .string(method)]
        if let params { message["params"] = params }
        process?.write(Self.line(.object(message)))
    }

    /// Answers a server request with a result.
    func respond(to id: JSONValue, result: JSONValue) {
        process?.write(Self.line(.object(["id": id, "result": result])))
    }

    /// Answers a server request with an error.
    func respond(to id: JSONValue, errorCode: Int, message: String) {
        let error = JSONValue.object(["code": .int(errorCode), "message": .string(message)])
        process?.write(Self.line(.object(["id": id, "error": error])))
    }

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
            let waiter = state.withLock { $0.pending.removeValue(forKey: id) }
            waiter?.set(result)
        case nil:
            skipped.add(1, ordering: .relaxed)
        }
    }

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
            let message = error["message"]?.stringValue ?? error.jsonText
            return .response(id: id, .failure(RPCError(code: error["code"]?.intValue, message: message)))
        }
        return .response(id: id, .success(object["result"] ?? .null))
    }

    private func ended(_ exit: ProcessExit) {
        let waiters = state.withLock { s -> [OneShot<Result<JSONValue, RPCError>>] in
            s.exit = exit
            defer { s.pending = [:] }
            return Array(s.pending.values)
        }
        let failure = RPCError(message: "codex app-server \(exit.descriptionWithStderr)")
        for waiter in waiters { waiter.set(.failure(failure)) }
        handler.exited(exit)
    }
}
