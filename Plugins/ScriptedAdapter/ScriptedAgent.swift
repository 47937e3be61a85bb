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
        var turnTask: Task<Void, Never>?
        var disposed = false
    }

    private let channel = AdapterEventChannel()
    private let state: Mutex<State>
    private let loop: Bool
    private let startFailure: String?

    var events: AsyncStream<AdapterEvent> { channel.events }
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    init(settings: JSONValue) throws {
        guard let object = settings.objectValue else {
            throw AdapterError(.invalidSettings, "settings must be an object, not \(settings.kindDescription)")
        }
        let known: Set<String> = ["script", "turns", "loop", "startFailure"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw AdapterError(.invalidSettings, "settings.\(unknown): unknown setting (known: loop, script, startFailure, turns)")
        }
        let script: Script
        switch (object["script"], object["turns"]) {
        case (let path?, nil):
            guard let path = path.stringValue, !path.isEmpty else {
                throw AdapterError(.invalidSettings, "settings.script: must be a file path")
            }
            script = try Script(jsonl: try Self.readFile(path), origin: "script '\(path)'")
        case (nil, let turns?):
            guard let list = turns.arrayValue else {
                throw AdapterError(.invalidSettings, "settings.turns: must be an array of turns")
            }
            script = try Script(turns: list, origin: "settings.turns")
        case (nil, nil):
            script = Script(echoing: ())
        case (_?, _?):
            throw AdapterError(.invalidSettings, "settings: give either 'script' or 'turns', not both")
        }
        if let value = object["loop"] {
            guard let flag = value.boolValue else { throw AdapterError(.invalidSettings, "settings.loop: must be true or false") }
            loop = flag
        } else {
            loop = object["script"] == nil && object["turns"] == nil
        }
        if let value = object["startFailure"] {
            guard let reason = value.stringValue else { throw AdapterError(.invalidSettings, "settings.startFailure: must be a string") }
            startFailure = reason
        } else {
            startFailure = nil
        }
        state = Mutex(State(script: script))
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
        if let id = options.agentSessionId { channel.setAgentSessionId(id) }
    }

    func sendMessage(_ text: String) async throws {
        let disposed = state.withLock { $0.disposed }
        guard !disposed else { throw AdapterError(.invalidState, "The adapter has been disposed.") }
        guard channel.transition(from: [.idle, .error, .interrupted], to: .running) else {
            throw AdapterError(.invalidState, "A turn is already running.")
        }
        state.withLock { s in
            let turn = s.nextTurn < s.script.turns.count
                ? s.script.turns[s.nextTurn]
                : (loop && !s.script.turns.isEmpty ? s.script.turns[s.nextTurn % s.script.turns.count] : nil)
            let number = s.nextTurn + 1
            let total = s.script.turns.count
            s.nextTurn += 1
            let model = s.model
            s.turnTask = Task { [channel] in
                guard let turn else {
                    channel.emit(ChatMessage(type: .error, content: "The script has no turn \(number) (it has \(total))."))
                    channel.setStatus(.error)
                    return
                }
                await Self.play(turn, userText: text, model: model, channel: channel)
            }
        }
    }

    private static func play(_ turn: Script.Turn, userText: String, model: String?, channel: AdapterEventChannel) async {
        if let id = turn.agentSessionId { channel.setAgentSessionId(id) }
        for step in turn.steps {
            if step.delayMilliseconds > 0 {
                do { try await Task.sleep(for: .milliseconds(step.delayMilliseconds)) } catch { return }
            }
            if Task.isCancelled { return }
            var message = step.message
            message.timestamp = Timestamp.now()
            channel.emit(message)
        }
        if turn.echo {
            channel.emit(ChatMessage(type: .assistant, content: userText, messageId: "echo-\(Timestamp.epochMilliseconds())"))
        }
        if turn.hang {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return
        }
        if Task.isCancelled { return }
        if let failure = turn.failure {
            channel.emit(ChatMessage(type: .error, content: failure))
            channel.setStatus(.error)
            return
        }
        var extra: [String: JSONValue] = [:]
        if let model { extra["model"] = .string(model) }
        channel.emit(ChatMessage(type: .done, content: "Response complete", extra: extra))
        channel.setStatus(.idle)
    }

    func setModel(_ model: String) async throws {
        state.withLock { $0.model = model }
    }

    func interrupt() async throws {
        guard let task = state.withLock({ $0.turnTask }) else { return }
        guard channel.status == .running else { return }
        task.cancel()
        await task.value
        _ = channel.transition(from: [.running], to: .interrupted)
    }

    func dispose() async {
        let task = state.withLock { s in
            s.disposed = true
            return s.turnTask
        }
        task?.cancel()
        await task?.value
        channel.finish()
    }
}

/// The plugin's entry symbol.
@_cdecl("switchboard_plugin_v1")
public func switchboardPluginV1() -> UnsafeRawPointer {
    SwitchboardPlugin.export(
        PluginInfo(agentType: "scripted", displayName: "Scripted (for tests)", version: "1.0.0")
    ) { settings in try ScriptedAgent(settings: settings) }
}
