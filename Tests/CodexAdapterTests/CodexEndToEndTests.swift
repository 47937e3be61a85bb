import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension CodexCLITests {
    /// Whole turns through the session manager, `dlopen` of `libCodexAdapter.so`, the real
    /// `codex app-server` and the mock Responses API.
    @Suite("Turns, tools, history, resume, model change")
    struct EndToEnd {
        @Test("A text turn streams its deltas in order under one messageId and ends with done, usage and model")
        func textTurn() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("Hel", "lo ", "from ", "the ", "mock"))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Say hello")

                let assistant = messages.filter { $0.type == .assistant }
                #expect(assistant.map(\.content) == ["Hel", "lo ", "from ", "the ", "mock"], "each delta once, in order")
                #expect(Set(assistant.map(\.messageId)) == ["msg_mock_1"])
                let done = try #require(messages.last { $0.type == .done })
                #expect(done.content == "Response complete")
                #expect(done.extra["model"] == .string(CodexTestbed.model))
                #expect(done.extra["usage"]?["inputTokens"]?.intValue == 10)
                #expect(done.extra["usage"]?["outputTokens"]?.intValue == 5)
                let doneIndex = try #require(messages.firstIndex { $0.type == .done })
                #expect(try #require(messages.lastIndex { $0.type == .assistant }) < doneIndex)
                #expect(!messages.contains { $0.type == .error })

                // The thread id became the agent session id once the turn started.
                let agentId = try #require(await manager.info(session.id)?.agentSessionId)
                #expect(agentId.count == 36, "\(agentId)")
                #expect(messages.contains { $0.type == .system && $0.content == "Session started: \(agentId.prefix(8))..." })
                #expect(await bed.store.get(session.id)?.agentSessionId == agentId)
                #expect(bed.home.rollouts.contains { $0.hasSuffix("\(agentId).jsonl") }, "the thread's rollout exists")

                let request = try #require(bed.api.requests.items.first)
                #expect(request.model == CodexTestbed.model)
                #expect(request.isStreaming)
                #expect(request.userTexts == ["Say hello"])
                let process = try #require(CodexTestbed.codexChildren().first)
                #expect(CodexTestbed.commandLine(process.pid).suffix(1) == ["app-server"])
            }
        }

        @Test("A command turn: tool_use Bash, the real output and exit code in tool_result, a failed command flagged, then the final text")
        func commandTurn() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(
                    // Codex drops output written before its item/started from what clients see
                    // (the model still gets it): the command prints after a pause.
                    .shell("sleep 1.5; echo switchboard-$((6*7))", callId: "call_echo"),
                    .shell("echo failing >&2; exit 3", callId: "call_fail"),
                    .text("The command printed 42.")
                )
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Run the commands")

                let uses = messages.filter { $0.type == .toolUse }
                #expect(uses.map(\.toolId) == ["call_echo", "call_fail"])
                let use = try #require(uses.first)
                #expect(use.toolName == "Bash")
                let input = try JSONValue(parsing: use.content)
                #expect(input["command"]?.stringValue?.contains("sleep 1.5; echo switchboard-$((6*7))") == true, "\(use.content)")
                #expect(input["cwd"]?.stringValue == bed.project)
                #expect(use.content.contains("\n  \"command\""), "pretty JSON: \(use.content)")

                let results = messages.filter { $0.type == .toolResult }
                #expect(results.map(\.toolId) == ["call_echo", "call_fail"])
                let ok = try #require(results.first)
                #expect(ok.content.contains("switchboard-42"), "\(ok.content)")
                #expect(ok.extra["isError"] == .bool(false))
                #expect(ok.extra["exitCode"] == .int(0))
                let failed = try #require(results.last)
                #expect(failed.extra["isError"] == .bool(true), "\(failed)")
                #expect(failed.extra["exitCode"] == .int(3))
                #expect(CodexTestbed.assistantText(messages) == "The command printed 42.")
                let order = [ChatMessage.Kind.toolUse, .toolResult, .assistant, .done].map { kind in messages.firstIndex { $0.type == kind } ?? -1 }
                #expect(order == order.sorted() && !order.contains(-1), "\(messages.map(\.type))")
                // Three model requests in the turn: its usage is theirs together.
                let done = try #require(messages.last { $0.type == .done })
                #expect(done.extra["usage"]?["inputTokens"]?.intValue == 30)

                // Codex sent the real output back to the model.
                let requests = bed.api.requests.items
                #expect(requests.count == 3)
                #expect(requests.last?.toolOutputs.first { $0.callId == "call_echo" }?.output.contains("switchboard-42") == true)
            }
        }

        @Test("A file-change turn: tool_use Edit with path, kind and diff; the file exists afterwards")
        func fileChangeTurn() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.addFile("notes/hello.txt", lines: ["hello from the mock patch"]), .text("Added it."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Add a file")

                let use = try #require(messages.first { $0.type == .toolUse })
                #expect(use.toolName == "Edit" && use.toolId == "call_mock_patch")
                let change = try #require(try JSONValue(parsing: use.content)["changes"]?.arrayValue?.first)
                #expect(change["path"]?.stringValue == bed.project + "/notes/hello.txt")
                #expect(change["kind"] == .string("add"))
                #expect(change["diff"]?.stringValue?.contains("hello from the mock patch") == true)
                let result = try #require(messages.first { $0.type == .toolResult })
                #expect(result.toolId == "call_mock_patch" && result.extra["isError"] == .bool(false))
                #expect(result.content == "completed\nadd \(bed.project)/notes/hello.txt")
                #expect(CodexTestbed.assistantText(messages) == "Added it.")
                let written = try String(contentsOfFile: bed.project + "/notes/hello.txt", encoding: .utf8)
                #expect(written == "hello from the mock patch\n")
                #expect(bed.api.requests.items.first?.toolNames.contains("apply_patch") == true)
            }
        }

        @Test("A second turn reuses the process; the model sees the history; usage is the turn's own")
        func secondTurn() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("First ", "answer."), .text("Second ", "answer."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "First question")
                let first = CodexTestbed.codexChildren()
                #expect(first.count == 1, "\(first)")
                let messages = try await bed.turn(manager, session, "Second question")
                #expect(CodexTestbed.assistantText(messages) == "Second answer.")
                #expect(CodexTestbed.codexChildren().map(\.pid) == first.map(\.pid), "the same process served both turns")
                #expect(!messages.contains { $0.type == .system && $0.content.hasPrefix("Session started") })
                let done = try #require(messages.last { $0.type == .done })
                #expect(done.extra["usage"]?["inputTokens"]?.intValue == 10, "this turn's share, not the thread's total")
                #expect(done.extra["threadUsage"]?["inputTokens"]?.intValue == 20)

                let last = try #require(bed.api.requests.items.last)
                #expect(last.userTexts == ["First question", "Second question"])
                #expect(last.assistantTexts == ["First answer."])
            }
        }

        @Test("Dispose, a new manager on the same store finds the session by the thread id and resumes it")
        func resumeAfterDispose() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("Remembered: ", "blue."), .text("You said blue."))
                let first = try bed.manager()
                let session = try await bed.open(first)
                try await bed.turn(first, session, "My favourite colour is blue")
                let agentId = try #require(await first.info(session.id)?.agentSessionId)
                let firstProcess = try #require(CodexTestbed.codexChildren().first)
                await first.dispose(session.id)
                #expect(CodexTestbed.codexChildren().isEmpty, "dispose reaped the process")

                let second = try bed.manager()
                let found = try #require(try await second.find(agentId))
                #expect(found.id == session.id && found.agentSessionId == agentId)
                let client = ClientRecorder()
                // Only what comes now: the restored session's ring holds the first turn too.
                _ = await second.connect(found.id, client: client.client, resumeFrom: await second.messages(found.id).last?.seq)
                let messages = try await bed.turn(second, (found.id, client), "What is my favourite colour?")
                #expect(CodexTestbed.assistantText(messages) == "You said blue.")
                #expect(CodexTestbed.codexChildren().map(\.pid) != [firstProcess.pid])

                let last = try #require(bed.api.requests.items.last)
                #expect(last.userTexts == ["My favourite colour is blue", "What is my favourite colour?"])
                #expect(last.assistantTexts == ["Remembered: blue."])
                #expect(await second.info(found.id)?.agentSessionId == agentId)
                #expect(bed.home.rollouts.count == 1, "one thread, resumed: \(bed.home.rollouts)")
            }
        }

        @Test("A model change is sent with the next turn/start and seen by the model API; the process stays")
        func modelChange() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("Small answer."), .text("Large answer."))
                let manager = try bed.manager()
                let session = try await bed.open(manager, model: "gpt-5.5")
                try await bed.turn(manager, session, "Question one")
                let process = CodexTestbed.codexChildren().map(\.pid)
                try await manager.setModel(session.id, model: "gpt-5.4")
                let messages = try await bed.turn(manager, session, "Question two")
                #expect(CodexTestbed.assistantText(messages) == "Large answer.")
                #expect(messages.last { $0.type == .done }?.extra["model"] == .string("gpt-5.4"))

                let requests = bed.api.requests.items
                #expect(requests.map(\.model) == ["gpt-5.5", "gpt-5.4"])
                #expect(requests.last?.userTexts == ["Question one", "Question two"])
                #expect(CodexTestbed.codexChildren().map(\.pid) == process)
                #expect(await bed.store.get(session.id)?.model == "gpt-5.4")
            }
        }
    }
}
