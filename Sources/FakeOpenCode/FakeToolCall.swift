import Foundation
import SwitchboardAdapterAPI

extension FakeTurn {
    /// One tool call: its part goes pending → running; it asks (when the config says so, and
    /// always for a question) and waits; then it runs and completes, or fails with OpenCode's
    /// words for a rejection, a dismissal or an abort.
    func perform(_ call: AskingTurn.Call, callID: String, reply: String, forget: Bool) async -> CallOutcome {
        let s = state
        let version = s.options.version
        let part = await s.newID("prt")
        let started = Self.milliseconds()
        let (tool, input): (String, JSONValue) = switch call {
        case .bash(let command): ("bash", .object(["command": .string(command), "description": .string("Run \(command)")]))
        case .edit(let path): ("edit", .object(["filePath": .string(path), "oldString": .string(""), "newString": .string(Self.edited)]))
        case .task(let command): ("task", .object(["description": .string("Run \(command)"), "prompt": .string(command), "subagent_type": .string("general")]))
        case .question: ("question", .object(["questions": AskingTurn.questions]))
        }
        func update(_ fields: [String: JSONValue]) async {
            var toolState = fields
            toolState["input"] = fields["status"] == .string("pending") ? .object([:]) : input
            switch fields["status"]?.stringValue {
            case "running": toolState["time"] = .object(["start": .int(started)])
            case "completed", "error": toolState["time"] = .object(["start": .int(started), "end": .int(Self.milliseconds())])
            default: break
            }
            await s.publish("message.part.updated", ["part": .object([
                "id": .string(part), "sessionID": .string(session), "messageID": .string(reply), "type": .string("tool"),
                "callID": .string(callID), "tool": .string(tool), "state": .object(toolState),
            ])])
        }
        await update(["status": .string("pending")])
        await update(["status": .string("running")])

        var pending = FakePending(kind: call.isQuestion ? .question : .permission, session: session, info: .null)
        pending.forgotten = forget
        let answer: FakeAnswer
        switch call {
        case .question:
            pending.info = .object([
                "id": .string(await s.newID("que")), "sessionID": .string(session), "questions": AskingTurn.questions,
                "tool": .object(["messageID": .string(reply), "callID": .string(callID)]),
            ])
            answer = await s.askQuestion(pending)
        case .bash, .edit, .task:
            // A sub-agent's bash call asks in the sub-agent's own session.
            let (asker, askingTool) = if case .task = call { (await s.createSession(parent: session), "bash") } else { (session, tool) }
            switch s.options.permission(for: askingTool) {
            case "ask":
                pending.session = asker
                // The sub-agent's call has ids of its own session's.
                let sub = asker != session
                await describe(call, into: &pending, session: asker, callID: sub ? "call_sub_1" : callID,
                               reply: sub ? await s.newID("msg") : reply)
                answer = await s.askPermission(pending)
            case "deny":
                let text = "Error: The user has specified a rule which prevents you from using this specific tool call."
                await update(["status": .string("error"), "error": .string(text)])
                return .failed(note: "\(tool) is denied by the config", stopsLoop: false)
            default:
                answer = .once
            }
        }

        switch answer {
        case .once, .always:
            let (output, note) = await run(call)
            await update(["status": .string("completed"), "output": .string(output), "title": .string(note), "metadata": .object([:])])
            return .ran(note: note)
        case .answers(let answers):
            let questions = AskingTurn.questions.arrayValue ?? []
            let formatted = questions.enumerated().map { index, question in
                let given = index < answers.count ? answers[index] : []
                return "\"\(question["question"]?.stringValue ?? "")\"=\"\(given.isEmpty ? "Unanswered" : given.joined(separator: ", "))\""
            }.joined(separator: ", ")
            let output = "User has answered your questions: \(formatted). You can now continue with the user's answers in mind."
            await update(["status": .string("completed"), "output": .string(output), "title": .string("Asked \(questions.count) questions"),
                          "metadata": .object(["answers": .array(answers.map { .array($0.map(JSONValue.string)) })])])
            return .ran(note: "answers \(formatted)")
        case .reject(let message):
            let text = if let message {
                "Error: The user rejected permission to use this specific tool call with the following feedback: \(message)"
            } else if version.legacyPermissions {
                "Error: The user rejected permission to use this specific tool call. You may try again with different parameters."
            } else {
                "Error: The user rejected permission to use this specific tool call."
            }
            await update(["status": .string("error"), "error": .string(text)])
            return .failed(note: "rejected: \(message ?? "no reason")", stopsLoop: message == nil)
        case .dismissed:
            await update(["status": .string("error"), "error": .string("Error: The user dismissed this question")])
            return .failed(note: "dismissed", stopsLoop: true)
        case .aborted:
            await update(["status": .string("error"), "error": .string("Tool execution aborted")])
            return .aborted
        }
    }

    /// The permission request for a bash or edit call, in the shape of the fake's generation.
    private func describe(_ call: AskingTurn.Call, into pending: inout FakePending, session: String, callID: String, reply: String) async {
        let version = state.options.version
        let id = await state.newID("per")
        let project = FileManager.default.currentDirectoryPath
        var info: [String: JSONValue] = ["id": .string(id), "sessionID": .string(session)]
        switch call {
        case .bash(let command), .task(let command):
            let words = command.split(separator: " ").map(String.init)
            if version.legacyPermissions {
                // `head sub *`, the first argument that is not a flag as `sub`.
                let sub = words.dropFirst().first { !$0.hasPrefix("-") }
                let pattern = ([words.first ?? command] + (sub.map { [$0] } ?? []) + ["*"]).joined(separator: " ")
                pending.patterns = [pattern]
                info["type"] = .string("bash")
                info["pattern"] = .array([.string(pattern)])
                info["title"] = .string(command)
                info["metadata"] = .object(["command": .string(command), "patterns": .array([.string(pattern)])])
            } else {
                pending.permission = "bash"
                pending.patterns = [command]
                pending.always = [(words.first ?? command) + " *"]
                info["permission"] = .string("bash")
                info["metadata"] = version.atLeast(1, 18) ? .object(["command": .string(command)]) : .object([:])
            }
        case .edit(let path):
            let absolute = project + "/" + path
            let diff = "Index: \(absolute)\n===================================================================\n--- \(absolute)\n+++ \(absolute)\n@@ -0,0 +1,1 @@\n+\(Self.edited)"
            if version.legacyPermissions {
                pending.patterns = ["edit"]
                info["type"] = .string("edit")
                info["title"] = .string("Edit this file: \(absolute)")
                info["metadata"] = .object(["filePath": .string(absolute), "diff": .string(diff)])
            } else {
                pending.permission = "edit"
                pending.patterns = [path]
                pending.always = ["*"]
                info["permission"] = .string("edit")
                info["metadata"] = .object(["filepath": .string(absolute), "diff": .string(diff)])
            }
        case .question:
            return
        }
        if version.legacyPermissions {
            info["messageID"] = .string(reply)
            info["callID"] = .string(callID)
            info["time"] = .object(["created": .int(Self.milliseconds())])
        } else {
            info["patterns"] = .array(pending.patterns.map(JSONValue.string))
            info["always"] = .array(pending.always.map(JSONValue.string))
            info["tool"] = .object(["messageID": .string(reply), "callID": .string(callID)])
        }
        pending.info = .object(info)
    }

    static let edited = "edited by the fake"

    /// Runs an allowed call for real, in the project: the command, or the file written.
    private func run(_ call: AskingTurn.Call) async -> (output: String, note: String) {
        switch call {
        case .bash(let command), .task(let command):
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            do {
                try process.run()
                process.waitUntilExit()
            } catch {
                return ("sh: \(error)", "could not run \(command)")
            }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (output, "ran \(command)")
        case .edit(let path):
            let written = (try? (Self.edited + "\n").write(toFile: path, atomically: true, encoding: .utf8)) != nil
            return (written ? "Edit applied successfully." : "Could not write \(path).", "edited \(path)")
        case .question:
            return ("", "")
        }
    }
}

extension AskingTurn.Call {
    var isQuestion: Bool { if case .question = self { true } else { false } }
}
