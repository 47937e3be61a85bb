import SwitchboardAdapterAPI
import Synchronization

/// A local "agent" for demos and integration tests: it answers every message with the
/// user's own text — after a pause to think, streamed word by word if asked — and reports
/// the model in use on its `done` message. A message containing the `failOn` setting ends in
/// an error, so clients can show what a failed turn looks like.
///
/// It keeps every guarantee of `AgentAdapter` (the conformance suite checks them): one turn
/// at a time, interruptible turns, model changes from the next turn on, its session id
/// reported at start, and nothing emitted after dispose.
final class EchoAgent: ChannelBackedAdapter {
    private struct State {
        var model: String?
        var turns = 0
        var turn: Task<Void, Never>?
        var disposed = false
    }

    private let settings: EchoSettings
    private let channel = AdapterEventChannel()
    private let state = Mutex(State())

    var events: AsyncStream<AdapterEvent> { channel.events }
    /// Lets the SDK deliver this channel's events synchronously, in order with completions.
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    init(settings: JSONValue) throws(AdapterError) {
        self.settings = try EchoSettings(settings)
    }

    func start(_ options: StartOptions) async throws {
        state.withLock { $0.model = options.model }
        // Resume the session the host names, or begin a new one.
        let id = options.agentSessionId ?? "echo-\(Timestamp.epochMilliseconds())-\(UInt32.random(in: 0...UInt32.max))"
        channel.setAgentSessionId(id)
    }

    func sendMessage(_ text: String) async throws {
        if state.withLock({ $0.disposed }) {
            throw AdapterError(.invalidState, "The echo agent has been disposed.")
        }
        guard channel.transition(from: [.idle, .error, .interrupted], to: .running) else {
            throw AdapterError(.invalidState, "A turn is already running.")
        }
        state.withLock { s in
            s.turns += 1
            let plan = Turn(number: s.turns, text: text, model: s.model, settings: settings)
            s.turn = Task { [channel] in await plan.play(on: channel) }
        }
    }

    func setModel(_ model: String) async throws {
        // A running turn keeps the model it started with.
        state.withLock { $0.model = model.isEmpty ? nil : model }
    }

    func interrupt() async throws {
        guard let task = state.withLock({ $0.turn }), channel.status == .running else { return }
        task.cancel()
        await task.value
        _ = channel.transition(from: [.running], to: .interrupted)
    }

    func dispose() async {
        let task = state.withLock { s in
            s.disposed = true
            return s.turn
        }
        task?.cancel()
        await task?.value
        channel.finish()
    }
}

/// One turn's work, fixed when the message arrives.
private struct Turn: Sendable {
    var number: Int
    var text: String
    var model: String?
    var settings: EchoSettings

    /// Thinks, replies (word by word when asked) and ends the turn — unless cancelled, in
    /// which case it stops where it is and the interrupt reports the status.
    func play(on channel: AdapterEventChannel) async {
        guard await pause(settings.thinkMilliseconds) else { return }
        if let trigger = settings.failOn, text.contains(trigger) {
            channel.emit(ChatMessage(type: .error, content: "The echo agent was asked to fail: the message contains '\(trigger)'."))
            channel.setStatus(.error)
            return
        }
        let messageId = "\(channel.agentSessionId ?? "echo")-\(number)"
        let reply = settings.prefix + text
        if settings.wordDelayMilliseconds > 0 {
            for (index, word) in Self.words(of: reply).enumerated() {
                if index > 0 { guard await pause(settings.wordDelayMilliseconds) else { return } }
                channel.emit(ChatMessage(type: .assistant, content: word, messageId: messageId))
            }
        } else {
            channel.emit(ChatMessage(type: .assistant, content: reply, messageId: messageId))
        }
        guard !Task.isCancelled else { return }
        var extra: [String: JSONValue] = ["turn": .int(number)]
        if let model { extra["model"] = .string(model) }
        channel.emit(ChatMessage(type: .done, content: "Response complete", messageId: messageId, extra: extra))
        channel.setStatus(.idle)
    }

    /// Waits; returns false when the turn was cancelled meanwhile.
    private func pause(_ milliseconds: Int) async -> Bool {
        if milliseconds > 0 {
            do { try await Task.sleep(for: .milliseconds(milliseconds)) } catch { return false }
        }
        return !Task.isCancelled
    }

    /// The reply cut into deltas that concatenate back to it: each word with the spaces after it.
    static func words(of text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inSpace = false
        for character in text {
            if character == " " {
                inSpace = true
            } else if inSpace {
                parts.append(current)
                current = ""
                inSpace = false
            }
            current.append(character)
        }
        if !current.isEmpty || parts.isEmpty { parts.append(current) }
        return parts
    }
}
