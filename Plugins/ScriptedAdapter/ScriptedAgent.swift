import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An adapter that plays a ``Script`` instead of running an agent: how integration tests
/// (ours and our users') swap a real backend for a predictable one by changing the config.
///
/// Settings (the agent's `settings` object in the config):
/// - `script`: path of a JSONL script file (absolute, or relative to the daemon's working directory), or
/// - `turns`: the turns inline, as an array of the same objects;
/// - `loop`: `true` to start the script over when it runs out (default: the turn fails);
/// - `startFailure`: a reason; `start` then fails with it (for testing start-up errors).
///
/// With neither `script` nor `turns` it echoes every message back, which makes it a handy
/// stand-in for demos.
final class ScriptedAgent: ChannelBackedAdapter {
    private struct State {
        var script: Script
        var nextTurn = 0
        var model: String?
        var asks = 0
    }

    let eventChannel = AdapterEventChannel()
    private let turns: TurnRunner
    private let state: Mutex<State>
    private let loop: Bool
    private let startFailure: String?

    init(settings: JSONValue) throws {
        let r = try SettingsReader(settings, known: ["loop", "script", "startFailure", "turns"])
        let script: Script
        switch (try r.path("script"), r.value("turns")) {
        case (let path?, nil):
            script = try Script(jsonl: try Self.readFile(path), origin: "script '\(path)'")
        case (nil, let turns?):
            guard let list = turns.arrayValue else {
                throw r.invalid("turns", mustBe: "an array of turns", not: turns)
            }
            script = try Script(turns: list, origin: r.keyPath("turns"))
        case (nil, nil):
            script = Script(echoing: ())
        case (_?, _?):
            throw r.invalid("give either 'script' or 'turns', not both")
        }
        loop = try r.bool("loop") ?? (r.value("script") == nil && r.value("turns") == nil)
        startFailure = try r.string("startFailure")
        state = Mutex(State(script: script))
        turns = TurnRunner(channel: eventChannel, agentName: "scripted")
    }

    static func readFile(_ path: String) throws(AdapterError) -> String {
        do {
            return String(decoding: try FileError.readContents(of: path), as: UTF8.self)
        } catch {
            throw AdapterError(.invalidSettings, "settings.script: \(error)")
        }
    }

    func start(_ options: StartOptions) async throws {
        if let startFailure { throw AdapterError(.agentFailure, startFailure) }
        state.withLock { $0.model = options.model }
        if let id = options.agentSessionId { eventChannel.setAgentSessionId(id) }
    }

    func sendMessage(_ text: String) async throws {
        try turns.begin { [self] in
            // The body runs only for an accepted message, one at a time: take the next turn.
            let (turn, number, total, model) = state.withLock { s in
                defer { s.nextTurn += 1 }
                let turns = s.script.turns
                let turn = s.nextTurn < turns.count
                    ? turns[s.nextTurn]
                    : (loop && !turns.isEmpty ? turns[s.nextTurn % turns.count] : nil)
                return (turn, s.nextTurn + 1, turns.count, s.model)
            }
            guard let turn else { return .failed("The script has no turn \(number) (it has \(total)).") }
            return await play(turn, userText: text, model: model)
        }
    }

    /// Plays one turn's steps; returns how it ended (``TurnOutcome/stopped`` when cancelled).
    private func play(_ turn: Script.Turn, userText: String, model: String?) async -> TurnOutcome {
        let channel = eventChannel
        if let id = turn.agentSessionId { channel.setAgentSessionId(id) }
        if await play(turn.steps) == false { return .stopped }
        if turn.echo {
            channel.emit(ChatMessage(type: .assistant, content: userText, messageId: "echo-\(Timestamp.epochMilliseconds())"))
        }
        if turn.hang {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return .stopped
        }
        if Task.isCancelled { return .stopped }
        if let failure = turn.failure { return .failed(failure) }
        return .done(model: model, extra: turn.doneExtra)
    }

    /// Plays steps, asking where they ask; false when the turn was stopped meanwhile.
    private func play(_ steps: [Script.Step]) async -> Bool {
        for step in steps {
            if step.delayMilliseconds > 0 {
                do { try await Task.sleep(for: .milliseconds(step.delayMilliseconds)) } catch { return false }
            }
            if Task.isCancelled { return false }
            if var message = step.message {
                message.timestamp = Timestamp.now()
                eventChannel.emit(message)
            } else if let ask = step.ask {
                var request = ask.request
                if !ask.explicitID {
                    request.id = state.withLock { s in
                        s.asks += 1
                        return "ask-\(s.asks)"
                    }
                }
                guard let answer = await eventChannel.ask(request) else { return false }
                if let reaction = ask.reactions[answer.decision] {
                    if await play(reaction) == false { return false }
                } else {
                    eventChannel.emit(ChatMessage(type: .toolResult, content: Self.describe(answer), toolId: request.toolId,
                                                  extra: ["isError": .bool(!answer.allows)]))
                }
            }
        }
        return true
    }

    /// `allow`, `deny: <message>`, or a question's answers as JSON.
    static func describe(_ answer: DecisionAnswer) -> String {
        if !answer.answers.isEmpty { return JSONValue.object(answer.answers.mapValues(JSONValue.string)).jsonText }
        if let message = answer.message { return "\(answer.decision): \(message)" }
        return answer.decision
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model }
    }

    func interrupt() async throws {
        await turns.interrupt()
    }

    func dispose() async {
        await turns.dispose()
    }
}

/// The plugin's entry symbol.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "scripted", displayName: "Scripted (for tests)", version: "1.0.0")
    ) { settings in try ScriptedAgent(settings: settings) }
}
