import SwitchboardAdapterAPI
import SwitchboardPluginSDK
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
    }

    private let settings: EchoSettings
    /// Where the agent reports; the SDK answers `events`, `status` and `agentSessionId` from it.
    let eventChannel = AdapterEventChannel()
    /// One turn at a time, interrupt and dispose: the SDK's bookkeeping.
    private let turns: TurnRunner
    private let state = Mutex(State())

    init(settings: JSONValue) throws(AdapterError) {
        self.settings = try EchoSettings(settings)
        self.turns = TurnRunner(channel: eventChannel, agentName: "echo")
    }

    func start(_ options: StartOptions) async throws {
        state.withLock { $0.model = options.model }
        // Resume the session the host names, or begin a new one.
        let id = options.agentSessionId ?? "echo-\(Timestamp.epochMilliseconds())-\(UInt32.random(in: 0...UInt32.max))"
        eventChannel.setAgentSessionId(id)
    }

    func sendMessage(_ text: String) async throws {
        try turns.begin { [self] in
            let plan = state.withLock { s in
                s.turns += 1
                return Turn(number: s.turns, text: text, model: s.model, settings: settings)
            }
            return await plan.play(on: eventChannel)
        }
    }

    func setModel(_ model: String) async throws {
        // A running turn keeps the model it started with.
        state.withLock { $0.model = model.isEmpty ? nil : model }
    }

    func interrupt() async throws {
        await turns.interrupt()
    }

    func dispose() async {
        await turns.dispose()
    }
}

/// One turn's work, fixed when the message arrives.
private struct Turn: Sendable {
    var number: Int
    var text: String
    var model: String?
    var settings: EchoSettings

    /// Thinks, replies (word by word when asked) and says how the turn ended — stopped where
    /// it is when cancelled by an interrupt.
    func play(on channel: AdapterEventChannel) async -> TurnOutcome {
        guard await pause(settings.thinkMilliseconds) else { return .stopped }
        if let trigger = settings.failOn, text.contains(trigger) {
            return .failed("The echo agent was asked to fail: the message contains '\(trigger)'.")
        }
        let messageId = "\(channel.agentSessionId ?? "echo")-\(number)"
        let reply = settings.prefix + text
        if settings.wordDelayMilliseconds > 0 {
            for (index, word) in Self.words(of: reply).enumerated() {
                if index > 0 { guard await pause(settings.wordDelayMilliseconds) else { return .stopped } }
                channel.emit(ChatMessage(type: .assistant, content: word, messageId: messageId))
            }
        } else {
            channel.emit(ChatMessage(type: .assistant, content: reply, messageId: messageId))
        }
        guard !Task.isCancelled else { return .stopped }
        var extra: [String: JSONValue] = ["turn": .int(number)]
        if let model { extra["model"] = .string(model) }
        return .done(ChatMessage(type: .done, content: "Response complete", messageId: messageId, extra: extra))
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
