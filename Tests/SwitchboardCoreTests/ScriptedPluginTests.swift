import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The scripted plugin, loaded from the built `libScriptedAdapter.so` through dlopen.
@Suite("Scripted plugin through dlopen")
struct ScriptedPluginTests {
    static func adapter(_ settings: JSONValue) throws -> PluginAdapter {
        let plugin = try PluginLoader.load(BuildProducts.plugin("ScriptedAdapter"))
        return try PluginAdapter(plugin: plugin, settings: settings)
    }

    static func turns(_ json: String) throws -> JSONValue {
        .object(["turns": try JSONValue(parsing: json)])
    }

    @Test("A scripted turn streams its messages, reports the agent session id, and ends in done")
    func textTurn() async throws {
        let adapter = try Self.adapter(try Self.turns("""
        [{"agentSessionId":"agent-42","messages":[
            {"type":"assistant","content":"Hel","messageId":"m1"},
            {"type":"assistant","content":"lo","messageId":"m1","delayMs":5},
            {"type":"tool_use","content":"{\\"command\\":\\"ls\\"}","toolName":"Bash","toolId":"t1"},
            {"type":"tool_result","content":"a.txt","toolId":"t1","isError":false}]}]
        """))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w", model: "m-1"))
        try await adapter.sendMessage("hi")
        try await log.waitForMessage { $0.type == .done }
        try await log.waitForStatus(.idle)
        let messages = log.messages
        #expect(messages.map(\.type) == [.assistant, .assistant, .toolUse, .toolResult, .done])
        #expect(messages.map(\.content) == ["Hel", "lo", "{\"command\":\"ls\"}", "a.txt", "Response complete"])
        #expect(messages[0].messageId == "m1" && messages[1].messageId == "m1")
        #expect(messages[2].toolName == "Bash" && messages[2].toolId == "t1")
        #expect(messages[3].extra["isError"] == .bool(false))
        #expect(messages[4].extra["model"] == .string("m-1"))
        #expect(adapter.agentSessionId == "agent-42")
        #expect(log.statuses.first == .running)
        await adapter.dispose()
        try await log.waitUntilFinished()
    }

    @Test("A host that does not answer decisions (start options without answersDecisions) is never asked")
    func hostWithoutDecisions() async throws {
        let adapter = try Self.adapter(try Self.turns(#"[{"messages":[{"ask":{"toolName":"Bash","input":{"command":"touch x"}}}]}]"#))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w", answersDecisions: false))
        try await adapter.sendMessage("go")
        try await log.waitForStatus(.interrupted)
        #expect(!log.events.contains { if case .decisionRequested = $0 { true } else { false } })
        #expect(adapter.malformedEventCount == 0)
        await adapter.dispose()
    }

    @Test("Events emitted during a request reach the host before the request completes")
    func eventsBeforeCompletion() async throws {
        for round in 0..<50 {
            let adapter = try Self.adapter(.object([:]))
            try await adapter.start(StartOptions(workspaceName: "w", agentSessionId: "resumed-\(round)"))
            // The status event carrying the id was emitted inside start: it is here already.
            #expect(adapter.agentSessionId == "resumed-\(round)")
            await adapter.dispose()
        }
    }

    @Test("A failing turn ends in error, and the next turn works")
    func failureThenRecovery() async throws {
        let adapter = try Self.adapter(try Self.turns(#"[{"fail":"model overloaded"},{"echo":true}]"#))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("one")
        try await log.waitForStatus(.error)
        #expect(log.messages.last == ChatMessage(type: .error, content: "model overloaded", timestamp: log.messages.last!.timestamp))
        let mark = log.events.count
        try await adapter.sendMessage("two")
        try await log.waitForStatus(.idle, after: mark)
        #expect(log.messages.contains { $0.type == .assistant && $0.content == "two" })
        await adapter.dispose()
    }

    @Test("One message at a time; interrupt ends a hanging turn and the next one works")
    func interruptAndSerialTurns() async throws {
        let adapter = try Self.adapter(try Self.turns(#"[{"hang":true},{"echo":true}]"#))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("hang")
        try await log.waitForStatus(.running)
        await #expect(throws: AdapterError(.invalidState, "A turn is already running.")) {
            try await adapter.sendMessage("again")
        }
        try await adapter.interrupt()
        try await log.waitForStatus(.interrupted)
        #expect(adapter.status == .interrupted)
        let mark = log.events.count
        try await adapter.sendMessage("after")
        try await log.waitForStatus(.idle, after: mark)
        #expect(log.messages.contains { $0.content == "after" })
        await adapter.dispose()
    }

    @Test("A model change applies to the next turn")
    func modelChange() async throws {
        let adapter = try Self.adapter(.object(["turns": .array([.object([:])]), "loop": .bool(true)]))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w", model: "small"))
        try await adapter.sendMessage("1")
        try await log.waitForStatus(.idle)
        try await adapter.setModel("large")
        let mark = log.events.count
        try await adapter.sendMessage("2")
        try await log.waitForStatus(.idle, after: mark)
        #expect(log.messages.filter { $0.type == .done }.map { $0.extra["model"] } == [.string("small"), .string("large")])
        await adapter.dispose()
    }

    @Test("Running out of script is an error that says so")
    func exhaustedScript() async throws {
        let adapter = try Self.adapter(try Self.turns("[{}]"))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("1")
        try await log.waitForStatus(.idle)
        try await adapter.sendMessage("2")
        try await log.waitForStatus(.error)
        #expect(log.messages.last?.content == "The script has no turn 2 (it has 1).")
        await adapter.dispose()
    }

    @Test("A script file is read, and its errors name the file and line")
    func scriptFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let good = try dir.write("good.jsonl", "# a comment\n\n{\"messages\":[{\"type\":\"assistant\",\"content\":\"from file\"}]}\n")
        let adapter = try Self.adapter(.object(["script": .string(good)]))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("x")
        try await log.waitForMessage { $0.content == "from file" }
        await adapter.dispose()

        let bad = try dir.write("bad.jsonl", "{}\n{\"messages\":[{\"type\":\"assistant\"}]}\n")
        #expect(throws: AdapterError(.invalidSettings, "Plugin 'libScriptedAdapter.so' could not create an adapter for 'scripted': script '\(bad)', line 2: messages[0]: message has no 'content'")) {
            _ = try Self.adapter(.object(["script": .string(bad)]))
        }
    }

    @Test("Malformed settings are a clear error at create", arguments: [
        (#"{"script":"a","turns":[]}"#, "settings: give either 'script' or 'turns', not both"),
        (#"{"turns":[],"colour":"red"}"#, "settings.colour: unknown setting (known: loop, script, startFailure, turns)"),
        (#"{"turns":"no"}"#, "settings.turns: must be an array of turns, not a string"),
        (#"{"turns":[{"hang":"yes"}]}"#, "settings.turns[0]: 'hang' must be true or false"),
        (#"{"script":"/nonexistent/script.jsonl"}"#, "settings.script: cannot read '/nonexistent/script.jsonl': No such file or directory"),
    ])
    func malformedSettings(settings: String, reason: String) throws {
        let value = try JSONValue(parsing: settings)
        #expect(throws: AdapterError(.invalidSettings, "Plugin 'libScriptedAdapter.so' could not create an adapter for 'scripted': \(reason)")) {
            _ = try Self.adapter(value)
        }
    }

    @Test("Without a script it echoes every message")
    func echoByDefault() async throws {
        let adapter = try Self.adapter(.object([:]))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        for text in ["one", "two"] {
            let mark = log.events.count
            try await adapter.sendMessage(text)
            try await log.waitForStatus(.idle, after: mark)
        }
        #expect(log.messages.filter { $0.type == .assistant }.map(\.content) == ["one", "two"])
        await adapter.dispose()
    }

    @Test("A start failure reaches the caller")
    func startFailure() async throws {
        let adapter = try Self.adapter(.object(["turns": .array([]), "startFailure": .string("no such container")]))
        await #expect(throws: AdapterError(.agentFailure, "no such container")) {
            try await adapter.start(StartOptions(workspaceName: "w"))
        }
        await adapter.dispose()
    }

    @Test("After dispose the stream ends and requests are refused")
    func disposeIsFinal() async throws {
        let adapter = try Self.adapter(try Self.turns(#"[{"hang":true}]"#))
        let log = AdapterEventLog(adapter)
        try await adapter.start(StartOptions(workspaceName: "w"))
        try await adapter.sendMessage("x")
        try await log.waitForStatus(.running)
        await adapter.dispose()
        try await log.waitUntilFinished()
        let count = log.events.count
        await #expect(throws: AdapterError(.invalidState, "The 'scripted' adapter has been disposed.")) {
            try await adapter.sendMessage("y")
        }
        await adapter.dispose()  // twice is harmless
        #expect(log.events.count == count)
    }
}

@Suite("Codex placeholder plugin")
struct CodexPlaceholderTests {
    @Test("It loads as 'codex' and refuses to start with a clear error")
    func refusesToStart() async throws {
        let plugin = try PluginLoader.load(BuildProducts.plugin("CodexAdapter"))
        #expect(plugin.agentType == "codex")
        let adapter = try PluginAdapter(plugin: plugin, settings: .object([:]))
        let log = AdapterEventLog(adapter)
        await #expect(throws: AdapterError(.notImplemented, "Codex adapter not yet implemented")) {
            try await adapter.start(StartOptions(workspaceName: "w"))
        }
        await adapter.dispose()
        try await log.waitUntilFinished()
        #expect(log.events.isEmpty)
    }
}
