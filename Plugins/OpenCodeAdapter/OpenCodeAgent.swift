import Foundation
import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import Synchronization

/// Drives an `opencode serve` HTTP server: starts or reuses the server (through the
/// plugin's ``ServerPool``), creates or resumes an OpenCode session, sends prompts and turns
/// the server's event stream into chat messages. Settings: ``OpenCodeSettings``.
final class OpenCodeAgent: ChannelBackedAdapter {
    private struct State {
        var key: ServerKey?
        var acquired = false
        var sessionID: String?
        var model: String?
        var disposed = false
    }

    let eventChannel = AdapterEventChannel()
    private var channel: AdapterEventChannel { eventChannel }
    private let turns: TurnRunner
    private let settings: OpenCodeSettings
    private let state = Mutex(State())
    private let pool = ServerPool.shared

    init(settings: JSONValue) throws(AdapterError) {
        self.settings = try OpenCodeSettings(settings)
        self.turns = TurnRunner(channel: eventChannel, agentName: "opencode")
    }

    // MARK: - Start

    func start(_ options: StartOptions) async throws {
        let key = ServerKey(
            container: options.isHost ? nil : options.containerName,
            projectPath: options.projectPath ?? FileManager.default.currentDirectoryPath,
            settings: settings
        )
        try state.withLock { s throws(AdapterError) in
            guard !s.disposed else { throw AdapterError(.invalidState, "The adapter has been disposed.") }
            guard s.key == nil else { throw AdapterError(.invalidState, "The adapter was already started.") }
            s.key = key
            s.model = options.model
        }
        let server = try await pool.acquire(key)
        let disposed = state.withLock { s in
            s.acquired = !s.disposed
            return s.disposed
        }
        if disposed {
            await pool.release(key)
            throw AdapterError(.invalidState, "The adapter was disposed while it started.")
        }
        if let id = options.agentSessionId {
            let reply = try await call(server, "GET", "/session/\(Self.percentEncoded(id))")
            switch reply.status {
            case 200:
                state.withLock { $0.sessionID = id }
                channel.setAgentSessionId(id)
            case 404:
                throw AdapterError(.agentFailure, "OpenCode session '\(id)' does not exist on the \(server.placeDescription) for '\(key.projectPath)' (was the server's data reset or the session made elsewhere?). Not creating a new session in its place; start a new session instead.")
            default:
                throw AdapterError(.agentFailure, "OpenCode answered GET /session/\(id) with \(reply.status): \(reply.text.prefix(300))")
            }
        } else {
            let reply = try await call(server, "POST", "/session", body: "{}")
            guard reply.status == 200, let id = (try? JSONValue(parsing: reply.text))?["id"]?.stringValue else {
                throw AdapterError(.agentFailure, "OpenCode could not create a session (POST /session answered \(reply.status)): \(reply.text.prefix(300))")
            }
            state.withLock { $0.sessionID = id }
            channel.setAgentSessionId(id)
            channel.emit(ChatMessage(type: .system, content: "Session: \(id.prefix(8))..."))
        }
    }

    private func call(_ server: OpenCodeServer, _ method: String, _ path: String, body: String? = nil,
                      timeout: Duration = .seconds(30)) async throws(AdapterError) -> HTTPReply {
        do {
            let reply = try await server.endpoint.request(method, path, body: body, timeout: timeout)
            if reply.status == 401 {
                throw AdapterError(.agentFailure, "The \(server.placeDescription) refused the credentials (401); check settings.username and settings.password.")
            }
            return reply
        } catch let error as AdapterError {
            throw error
        } catch {
            throw AdapterError(.agentFailure, "The \(server.placeDescription) did not answer \(method) \(path): \(error).")
        }
    }

    // MARK: - Turns

    func sendMessage(_ text: String) async throws {
        let (key, sessionID, model) = state.withLock { ($0.key, $0.sessionID, $0.model) }
        try turns.checkNotDisposed()
        guard let key, let sessionID else { throw AdapterError(.invalidState, "The adapter has not been started.") }
        let stream = Mutex<EventStream?>(nil)
        try turns.begin(onInterrupt: { [self] in
            stream.withLock { $0 }?.close()
            await abort(key: key, sessionID: sessionID)
        }) { [self] in
            await runTurn(key: key, sessionID: sessionID, text: text, model: model) { opened in
                stream.withLock { $0 = opened }
            }
        }
    }

    /// Asks the server to abort the session's turn; a failure is reported by ``interrupt()``.
    private func abort(key: ServerKey, sessionID: String) async {
        guard let server = try? await pool.server(for: key) else { return }
        do {
            let reply = try await call(server, "POST", "/session/\(Self.percentEncoded(sessionID))/abort", body: "{}")
            if reply.status != 200 {
                abortFailure.withLock { $0 = AdapterError(.agentFailure, "OpenCode answered the abort with \(reply.status): \(reply.text.prefix(200))") }
            }
        } catch {
            abortFailure.withLock { $0 = error }
        }
    }

    private let abortFailure = Mutex<AdapterError?>(nil)

    /// One turn: subscribe to the event stream, send the prompt, map events until the turn
    /// ends, the server goes away, or the turn is interrupted (its task cancelled).
    private func runTurn(
        key: ServerKey, sessionID: String, text: String, model: String?,
        opened: (EventStream) -> Void
    ) async -> TurnOutcome {
        let server: OpenCodeServer
        let stream: EventStream
        do {
            server = try await pool.server(for: key)
            stream = try await server.endpoint.openEventStream("/event")
        } catch {
            return .failed("The OpenCode server is not available: \(Self.describe(error))")
        }
        opened(stream)
        defer { stream.close() }
        if Task.isCancelled { return .stopped }
        let (events, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        Thread.detachNewThread {
            while let event = stream.nextEvent() { continuation.yield(event) }
            continuation.finish()
            stream.release()
        }
        var iterator = events.makeAsyncIterator()
        // The subscription is live once `server.connected` arrived: nothing after it is lost.
        guard let first = await iterator.next(), (try? JSONValue(parsing: first))?["type"]?.stringValue == "server.connected" else {
            return Task.isCancelled ? .stopped : .failed("The \(server.placeDescription) closed the event stream before it connected.")
        }
        let messageID = Self.newMessageID()
        var body: [String: JSONValue] = [
            "messageID": .string(messageID),
            "parts": .array([.object(["type": .string("text"), "text": .string(text)])]),
        ]
        if let model = Self.parseModel(model) {
            body["model"] = .object(["providerID": .string(model.provider), "modelID": .string(model.model)])
        }
        do {
            let reply = try await call(server, "POST", "/session/\(Self.percentEncoded(sessionID))/prompt_async", body: JSONValue.object(body).jsonText)
            guard reply.status == 204 || reply.status == 200 else {
                return .failed("OpenCode refused the prompt (\(reply.status)): \(reply.text.prefix(300))")
            }
        } catch {
            return .failed(Self.describe(error))
        }
        let decisions = TurnDecisions(channel: channel) { [self] decision, answer in
            await deliver(answer, to: decision, on: server)
        }
        let timedOut = AtomicFlag()
        let timer = Task { [settings] in
            guard await Self.waitForTimeout(settings.turnTimeout, not: decisions) else { return }
            timedOut.set()
            stream.close()
        }
        defer { timer.cancel() }
        var mapper = TurnEventMapper(sessionID: sessionID, userMessageID: messageID)
        var end: TurnOutcome?
        while end == nil, let data = await iterator.next() {
            if Task.isCancelled { break }
            guard let event = try? JSONValue(parsing: data) else { continue }
            if let decision = mapper.decision(event) {
                decisions.handle(decision)
                continue
            }
            let (messages, ended) = mapper.handle(event)
            for message in messages { channel.emit(message) }
            switch ended {
            case .done(let model)?: end = .done(model: model)
            case .failed?: end = .errorAlreadyReported
            case nil: break
            }
        }
        await decisions.finish()
        if let end { return end }
        if Task.isCancelled { return .stopped }
        if timedOut.isSet {
            _ = try? await server.endpoint.request("POST", "/session/\(Self.percentEncoded(sessionID))/abort", body: "{}", timeout: .seconds(5))
            return .failed("The turn did not finish within \(settings.turnTimeout) (settings.turnTimeoutSeconds, not counting the time it waited for a person's decision); it was aborted.")
        }
        _ = await server.process.waitForExit(within: .milliseconds(500))
        let how = server.isAlive ? "closed the event stream" : "\(server.process.exitDescription)"
        return .failed("The \(server.placeDescription) \(how) during the turn. The end of its log:\n\(server.process.logTail(lines: 10))")
    }

    /// Sends the answer to one of the server's requests; returns why it did not arrive.
    private func deliver(_ answer: DecisionAnswer, to decision: ServerDecision, on server: OpenCodeServer) async -> String? {
        let (path, body) = decision.reply(to: answer)
        do {
            let reply = try await call(server, "POST", path, body: body ?? "", timeout: .seconds(15))
            if reply.status == 200 { return nil }
            let said = Self.errorText(reply)
            if reply.status == 404 {
                return "OpenCode no longer waits for \(decision.description) (POST \(path) answered 404: \(said)); the answer '\(answer.decision)' did not reach it."
            }
            return "OpenCode refused the answer to \(decision.description) (POST \(path) answered \(reply.status): \(said))."
        } catch {
            return "The answer to \(decision.description) did not reach OpenCode: \(Self.describe(error))"
        }
    }

    /// The message of an error reply (`{"message":…}` or `{"data":{"message":…}}`), else its text.
    static func errorText(_ reply: HTTPReply) -> String {
        let json = try? JSONValue(parsing: reply.text)
        let message = json?["message"]?.stringValue ?? json?["data"]?["message"]?.stringValue
        return String((message ?? reply.text).prefix(300))
    }

    /// Sleeps until `timeout` has passed, not counting the time a request of `decisions` waited
    /// for a person; `false` when cancelled first.
    static func waitForTimeout(_ timeout: Duration, not decisions: TurnDecisions) async -> Bool {
        let start = ContinuousClock.now
        while true {
            let due = start + timeout + decisions.timeWaitingForPerson
            let now = ContinuousClock.now
            if now >= due, !decisions.isWaitingForPerson { return true }
            let pause = max(due - now, .milliseconds(100))
            guard (try? await Task.sleep(for: pause)) != nil else { return false }
        }
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model }
    }

    func interrupt() async throws {
        abortFailure.withLock { $0 = nil }
        guard await turns.interrupt() else { return }
        channel.emit(ChatMessage(type: .system, content: "Interrupted"))
        if let failure = abortFailure.withLock({ $0 }) { throw failure }
    }

    func dispose() async {
        let (key, acquired, sessionID) = state.withLock { s in
            defer {
                s.disposed = true
                s.acquired = false
            }
            return (s.key, s.acquired && !s.disposed, s.sessionID)
        }
        let wasRunning = turns.isRunning
        await turns.dispose { [self] in
            if wasRunning, let key, let sessionID, let server = try? await pool.server(for: key) {
                _ = try? await server.endpoint.request("POST", "/session/\(Self.percentEncoded(sessionID))/abort", body: "{}", timeout: .seconds(5))
            }
        }
        if let key, acquired { await pool.release(key) }
    }

    // MARK: - Helpers

    /// `provider/model` split at the first slash; anything else is no model.
    static func parseModel(_ model: String?) -> (provider: String, model: String)? {
        guard let model, let slash = model.firstIndex(of: "/") else { return nil }
        let provider = String(model[..<slash]), name = String(model[model.index(after: slash)...])
        guard !provider.isEmpty, !name.isEmpty else { return nil }
        return (provider, name)
    }

    /// A message id in OpenCode's format (`msg_` + time + random), so the server accepts it.
    static func newMessageID() -> String {
        let millis = UInt64(Date().timeIntervalSince1970 * 1000)
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var generator = SystemRandomNumberGenerator()
        let random = String((0..<14).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        let time = String(millis * 0x1000, radix: 16)
        return "msg_" + String(repeating: "0", count: max(0, 12 - time.count)) + time + random
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }

    static func describe(_ error: any Error) -> String {
        (error as? AdapterError)?.message ?? String(describing: error)
    }
}

/// The plugin's description and factory; the entry symbol (target `OpenCodePlugin`) exports them.
package enum OpenCodePluginExport {
    package static let info = PluginInfo(agentType: "opencode", displayName: "OpenCode", version: "1.0.0")
    package static let factory: AgentAdapterFactory = { settings in try OpenCodeAgent(settings: settings) }
}
