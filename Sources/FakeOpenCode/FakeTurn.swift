import Foundation
import SwitchboardAdapterAPI

/// One prompt's events, shaped like OpenCode's. What happens depends on the prompt text:
/// - starts with `ask `: tools that may need a permission or ask a question (``AskingTurn``);
/// - contains `toolfail`: a tool part pending → running → error, then a reply;
/// - contains `tool`: a tool part pending → running → completed, then a reply;
/// - contains `hang`: the reply starts and never ends until aborted;
/// - contains `crash`: the reply starts, then the server process exits (status 70);
/// - contains `fail`: `session.error` and an assistant message with an error;
/// - anything else: the reply `Echo: <text>` in three deltas.
/// Every prompt first gets a premature idle (as the real server sends ~30 ms after
/// `prompt_async`, before any reply exists).
struct FakeTurn: Sendable {
    let state: FakeOpenCodeState
    let session: String
    let userMessageID: String
    let text: String
    let providerID: String
    let modelID: String

    func run() async {
        let s = state
        let now = JSONValue.int(Int(Date().timeIntervalSince1970 * 1000))
        await s.clearAbort(session)
        await s.publish("message.updated", ["info": .object([
            "id": .string(userMessageID), "sessionID": .string(session), "role": .string("user"),
            "time": .object(["created": now]),
        ])])
        let userPart = await s.newID("prt")
        await s.publish("message.part.updated", ["part": .object([
            "id": .string(userPart), "sessionID": .string(session), "messageID": .string(userMessageID),
            "type": .string("text"), "text": .string(text),
        ])])
        await idle()
        try? await Task.sleep(for: .milliseconds(30))
        await s.publish("session.status", ["sessionID": .string(session), "status": .object(["type": .string("busy")])])
        let reply = await s.newID("msg")
        var info: [String: JSONValue] = [
            "id": .string(reply), "sessionID": .string(session), "role": .string("assistant"),
            "parentID": .string(userMessageID), "providerID": .string(providerID), "modelID": .string(modelID),
            "time": .object(["created": now]),
        ]
        await s.publish("message.updated", ["info": .object(info)])

        if let asking = AskingTurn(prompt: text, version: s.options.version) {
            return await runAsking(asking, info: info, now: now)
        }
        if text.contains("fail") && !text.contains("toolfail") {
            let error: JSONValue = .object(["name": .string("APIError"), "data": .object(["message": .string("simulated provider failure")])])
            await s.publish("session.error", ["sessionID": .string(session), "error": error])
            info["error"] = error
            info["time"] = .object(["created": now, "completed": now])
            await s.publish("message.updated", ["info": .object(info)])
            await idle()
            return
        }
        if text.contains("tool") {
            let failing = text.contains("toolfail")
            let part = await s.newID("prt")
            let input: JSONValue = .object(["command": .string("ls")])
            for status in ["pending", "running", failing ? "error" : "completed"] {
                var state: [String: JSONValue] = ["status": .string(status), "input": status == "pending" ? .object([:]) : input]
                if status != "pending" { state["title"] = .string("List files") }
                if status == "completed" { state["output"] = .string("README.md\nSources") }
                if status == "error" { state["error"] = .string("ls: permission denied") }
                await s.publish("message.part.updated", ["part": .object([
                    "id": .string(part), "sessionID": .string(session), "messageID": .string(reply), "type": .string("tool"),
                    "callID": .string("call_1"), "tool": .string("bash"), "state": .object(state),
                ])])
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let textPart = await s.newID("prt")
        let pieces = ["Echo: ", String(text.prefix(text.count / 2)), String(text.dropFirst(text.count / 2))]
        var sofar = ""
        await textUpdate(textPart, reply: reply, text: "", delta: nil)
        for (index, piece) in pieces.enumerated() {
            if await s.isAborted(session) { return await aborted(&info, now: now) }
            sofar += piece
            if s.options.deltaEvents {
                await s.publish("message.part.delta", [
                    "sessionID": .string(session), "messageID": .string(reply), "partID": .string(textPart),
                    "field": .string("text"), "delta": .string(piece),
                ])
            } else {
                await textUpdate(textPart, reply: reply, text: sofar, delta: piece)
            }
            if index == 0 && text.contains("crash") {
                try? await Task.sleep(for: .milliseconds(50))
                exit(70)
            }
            if index == 0 && text.contains("hang") {
                while !(await s.isAborted(session)) { try? await Task.sleep(for: .milliseconds(20)) }
                return await aborted(&info, now: now)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        await textUpdate(textPart, reply: reply, text: sofar, delta: nil)
        info["time"] = .object(["created": now, "completed": .int(Int(Date().timeIntervalSince1970 * 1000))])
        await s.publish("message.updated", ["info": .object(info)])
        await idle()
    }

    func textUpdate(_ part: String, reply: String, text: String, delta: String?) async {
        var properties: [String: JSONValue] = ["part": .object([
            "id": .string(part), "sessionID": .string(session), "messageID": .string(reply),
            "type": .string("text"), "text": .string(text),
        ])]
        if let delta { properties["delta"] = .string(delta) }
        await state.publish("message.part.updated", properties)
    }

    func aborted(_ info: inout [String: JSONValue], now: JSONValue) async {
        let error: JSONValue = .object(["name": .string("MessageAbortedError"), "data": .object(["message": .string("The operation was aborted.")])])
        await state.publish("session.error", ["sessionID": .string(session), "error": error])
        info["error"] = error
        info["time"] = .object(["created": now, "completed": now])
        await state.publish("message.updated", ["info": .object(info)])
        await idle()
    }

    func idle() async {
        await state.publish("session.status", ["sessionID": .string(session), "status": .object(["type": .string("idle")])])
        await state.publish("session.idle", ["sessionID": .string(session)])
    }
}
