import Foundation
import SwitchboardAdapterAPI

/// A turn whose tools may need a person: what a prompt starting with `ask ` asks for.
///
/// - `ask bash: CMD` — the bash tool runs `CMD` (with `/bin/sh` in the project);
/// - `ask bash twice: CMD` — two bash calls of `CMD` at once, both asking together;
/// - `ask edit: PATH` — the edit tool writes `PATH` (relative to the project);
/// - `ask task: CMD` — the task tool starts a sub-agent (a child session, announced with
///   `session.created`), whose bash call of `CMD` asks in the child session;
/// - `ask forget: CMD` — as `ask bash:`, but the server drops the request as soon as it
///   announced it (``FakePending/forgotten``);
/// - `ask question` — the question tool asks two questions (OpenCode ≥ 1.1).
///
/// Whether bash and edit ask is the project's `opencode.json` (`"permission": {"bash":
/// "ask"}`); by default they just run, like OpenCode's.
struct AskingTurn: Sendable {
    enum Call: Sendable {
        case bash(String)
        case edit(String)
        case task(String)
        case question
    }

    var calls: [Call]
    var forget = false

    init?(prompt: String, version: FakeProtocol) {
        let rules: [(prefix: String, make: (String) -> [Call])] = [
            ("ask bash twice:", { [.bash($0), .bash($0)] }),
            ("ask bash:", { [.bash($0)] }),
            ("ask edit:", { [.edit($0)] }),
            ("ask task:", { [.task($0)] }),
            ("ask forget:", { [.bash($0)] }),
        ]
        if prompt.hasPrefix("ask question") {
            guard version.questions else { return nil }
            calls = [.question]
            return
        }
        guard let rule = rules.first(where: { prompt.hasPrefix($0.prefix) }) else { return nil }
        let argument = prompt.dropFirst(rule.prefix.count).trimmingCharacters(in: .whitespaces)
        calls = rule.make(argument)
        forget = rule.prefix == "ask forget:"
    }

    /// The two questions of `ask question`.
    static let questions: JSONValue = .array([
        .object(["question": .string("Which colour?"), "header": .string("Colour"), "options": .array([
            .object(["label": .string("red"), "description": .string("Warm")]),
            .object(["label": .string("blue"), "description": .string("Cool")]),
        ])]),
        .object(["question": .string("Which sizes?"), "header": .string("Sizes"), "multiple": .bool(true), "options": .array([
            .object(["label": .string("S"), "description": .string("Small")]),
            .object(["label": .string("M"), "description": .string("Medium")]),
            .object(["label": .string("L"), "description": .string("Large")]),
        ])]),
    ])
}

/// How one tool call of an asking turn ended.
enum CallOutcome: Sendable {
    /// It ran; `note` is what the model's next step says about it.
    case ran(note: String)
    /// It failed; a rejection without a message (or a dismissed question) stops the loop.
    case failed(note: String, stopsLoop: Bool)
    case aborted
}

extension FakeTurn {
    /// The asking turn after its first assistant message (`info`) was announced: the calls
    /// run at once; then the step completes with `finish` `tool-calls`, and — unless a call
    /// was rejected without a message or aborted — a second step replies, as OpenCode's loop
    /// does.
    func runAsking(_ turn: AskingTurn, info: [String: JSONValue], now: JSONValue) async {
        var info = info
        let reply = info["id"]?.stringValue ?? ""
        let outcomes = await withTaskGroup(of: (Int, CallOutcome).self) { group in
            for (index, call) in turn.calls.enumerated() {
                group.addTask { (index, await perform(call, callID: "call_\(index + 1)", reply: reply, forget: turn.forget)) }
            }
            var outcomes: [(Int, CallOutcome)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.0 < $1.0 }.map(\.1)
        }
        if outcomes.contains(where: { if case .aborted = $0 { true } else { false } }) {
            return await aborted(&info, now: now)
        }
        info["finish"] = .string("tool-calls")
        info["time"] = .object(["created": now, "completed": .int(Self.milliseconds())])
        await state.publish("message.updated", ["info": .object(info)])
        if outcomes.contains(where: { if case .failed(_, true) = $0 { true } else { false } }) {
            return await idle()
        }
        let notes = outcomes.map { outcome -> String in
            switch outcome {
            case .ran(let note), .failed(let note, _): note
            case .aborted: "aborted"
            }
        }
        var next = info
        next["id"] = .string(await state.newID("msg"))
        next["finish"] = nil
        next["time"] = .object(["created": .int(Self.milliseconds())])
        await state.publish("message.updated", ["info": .object(next)])
        let part = await state.newID("prt")
        let text = "Done: " + notes.joined(separator: "; ")
        if state.options.deltaEvents {
            await textUpdate(part, reply: next["id"]?.stringValue ?? "", text: "", delta: nil)
            await state.publish("message.part.delta", [
                "sessionID": .string(session), "messageID": next["id"] ?? .null, "partID": .string(part),
                "field": .string("text"), "delta": .string(text),
            ])
        } else {
            await textUpdate(part, reply: next["id"]?.stringValue ?? "", text: text, delta: text)
        }
        await textUpdate(part, reply: next["id"]?.stringValue ?? "", text: text, delta: nil)
        next["finish"] = .string("stop")
        next["time"] = .object(["created": next["time"]?["created"] ?? now, "completed": .int(Self.milliseconds())])
        await state.publish("message.updated", ["info": .object(next)])
        await idle()
    }

    static func milliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
}
