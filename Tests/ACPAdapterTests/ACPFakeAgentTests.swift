import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// A scripted ACP agent: a `/bin/sh` loop that answers each request method with fixed lines,
/// for the cases a real agent will not produce on demand (a sign-in gate, a missing
/// capability, malformed output, a model option). `$ID` in a line becomes the request's id.
struct FakeACPAgent {
    var initialize = [#"{"jsonrpc":"2.0","id":$ID,"result":{"protocolVersion":1,"agentCapabilities":{"loadSession":false},"agentInfo":{"name":"fake-agent","version":"0.1"}}}"#]
    var sessionNew = [#"{"jsonrpc":"2.0","id":$ID,"result":{"sessionId":"fake-1"}}"#]
    var prompt = [
        #"{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"fake-1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"fake reply"}}}}"#,
        #"{"jsonrpc":"2.0","id":$ID,"result":{"stopReason":"end_turn"}}"#,
    ]
    var other: [String: [String]] = [:]

    /// Writes the script into `directory` and returns its path.
    func write(in directory: String) throws -> String {
        func arm(_ method: String, _ lines: [String]) -> String {
            let body = lines.map { line in
                "printf '%s\\n' '" + line.replacingOccurrences(of: "$ID", with: "'\"$id\"'") + "'"
            }.joined(separator: "\n    ")
            return "  \(method))\n    \(body)\n    ;;"
        }
        var arms = [arm("initialize", initialize), arm("session/new", sessionNew), arm("session/prompt", prompt)]
        for (method, lines) in other.sorted(by: { $0.key < $1.key }) { arms.append(arm(method, lines)) }
        let script = """
            #!/bin/sh
            # Our requests are written with sorted keys, so "id" comes first.
            while IFS= read -r line; do
              id=$(printf '%s\\n' "$line" | sed -n 's/^{"id":\\([0-9]*\\),.*/\\1/p')
              method=$(printf '%s\\n' "$line" | sed -n 's/.*"method":"\\([^"]*\\)".*/\\1/p')
              [ -n "$id" ] || continue
              case "$method" in
            \(arms.joined(separator: "\n"))
              *)
                printf '%s\\n' '{"jsonrpc":"2.0","id":'"$id"',"error":{"code":-32601,"message":"Method not found"}}'
                ;;
              esac
            done

            """
        let path = directory + "/fake-agent"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}

@Suite("ACP plugin against scripted agents", .childProcessGate)
struct ACPFakeAgentTests {
    /// A started adapter of the real plugin, running `agent`; `body` gets it and its events.
    static func withAdapter(_ agent: FakeACPAgent, agentSessionId: String? = nil, type: String = "fake",
                            _ body: (PluginAdapter, AdapterEventLog, String) async throws -> Void) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let binary = try agent.write(in: dir.path)
        let plugin = try PluginLoader.load(BuildProducts.plugin("ACPAdapter"))
        let adapter = try PluginAdapter(plugin: plugin, agentType: type, settings: .object([
            "binary": .string(binary), "shutdownGraceSeconds": .int(1), "interruptGraceSeconds": .int(1),
        ]))
        let log = AdapterEventLog(adapter)
        do {
            try await adapter.start(StartOptions(workspaceName: "w", agentSessionId: agentSessionId, projectPath: dir.path, isHost: true))
            try await body(adapter, log, binary)
        } catch {
            await adapter.dispose()
            throw error
        }
        await adapter.dispose()
        #expect(ProcessTable.descendants().entries.values.filter { $0.commandLine.contains(binary) && $0.state != "Z" }.isEmpty)
    }

    /// Sends `text` and returns the turn's messages once it ended in `status`.
    static func turn(_ adapter: PluginAdapter, _ log: AdapterEventLog, _ text: String, endingIn status: SessionStatus) async throws -> [ChatMessage] {
        let mark = log.events.count
        try await adapter.sendMessage(text)
        try await log.waitForStatus(status, after: mark, within: .seconds(30))
        return log.events.dropFirst(mark).compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    @Test("-32000 Authentication required: 'not signed in or not configured', naming the binary")
    func notSignedIn() async throws {
        var agent = FakeACPAgent()
        agent.sessionNew = [#"{"jsonrpc":"2.0","id":$ID,"error":{"code":-32000,"message":"Authentication required"}}"#]
        try await Self.withAdapter(agent) { adapter, log, binary in
            let messages = try await Self.turn(adapter, log, "hi", endingIn: .error)
            let error = try #require(messages.last { $0.type == .error })
            #expect(error.content.hasPrefix("The 'fake' agent (fake-agent) is not signed in or not configured: Authentication required (JSON-RPC error -32000)."), "\(error.content)")
            #expect(error.content.contains("'\(binary)'"))
        }
    }

    @Test("Restoring a session the agent cannot restore is an error naming the missing capabilities")
    func cannotRestore() async throws {
        try await Self.withAdapter(FakeACPAgent(), agentSessionId: "old-7") { adapter, log, _ in
            #expect(adapter.agentSessionId == "old-7")
            let messages = try await Self.turn(adapter, log, "hi", endingIn: .error)
            let error = try #require(messages.last { $0.type == .error })
            #expect(error.content == "The 'fake' agent (fake-agent) cannot restore the agent session 'old-7': it advertises neither session/resume (agentCapabilities.sessionCapabilities.resume) nor session/load (agentCapabilities.loadSession). Start a new session to talk to it.", "\(error.content)")
        }
    }

    @Test("Malformed lines are skipped and counted; updates after the prompt's answer are still delivered")
    func malformedAndLate() async throws {
        var agent = FakeACPAgent()
        agent.prompt = [
            "this is not JSON",
            #"{"jsonrpc":"2.0","id":"not-ours","result":{}}"#,
            #"{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"fake-1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"before"}}}}"#,
            #"{"jsonrpc":"2.0","id":$ID,"result":{"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}}"#,
            #"{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"fake-1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"after"}}}}"#,
        ]
        try await Self.withAdapter(agent) { adapter, log, _ in
            let messages = try await Self.turn(adapter, log, "hi", endingIn: .idle)
            let done = try #require(messages.last { $0.type == .done })
            #expect(done.extra["skippedLines"] == .int(2), "\(done)")
            #expect(done.extra["usage"]?["totalTokens"] == .int(7))
            // The late chunk arrives after the turn's end, as a message of its own.
            try await log.waitForMessage(within: .seconds(10)) { $0.content == "after" }
            #expect(log.messages.filter { $0.type == .assistant }.map(\.content) == ["before", "after"])
        }
    }

    @Test("end_turn with no output is a warning; refusal is an error; a model option is chosen before the next turn")
    func stopReasonsAndModel() async throws {
        var agent = FakeACPAgent()
        agent.sessionNew = [#"{"jsonrpc":"2.0","id":$ID,"result":{"sessionId":"fake-1","configOptions":[{"id":"model","name":"Model","category":"model","type":"select","currentValue":"small","options":[{"value":"small","name":"Small"},{"value":"large","name":"Large"}]}]}}"#]
        agent.prompt = [#"{"jsonrpc":"2.0","id":$ID,"result":{"stopReason":"end_turn"}}"#]
        agent.other["session/set_config_option"] = [#"{"jsonrpc":"2.0","id":$ID,"result":{"configOptions":[{"id":"model","name":"Model","category":"model","type":"select","currentValue":"large","options":[{"value":"small","name":"Small"},{"value":"large","name":"Large"}]}]}}"#]
        try await Self.withAdapter(agent) { adapter, log, _ in
            let quiet = try await Self.turn(adapter, log, "hi", endingIn: .idle)
            #expect(quiet.contains { $0.type == .system && $0.content.contains("ended the turn without any output") }, "\(quiet)")
            #expect(quiet.last { $0.type == .done }?.extra["warning"] == .string("empty_turn"))
            #expect(quiet.last { $0.type == .done }?.extra["model"] == .string("small"))
            // An unknown model is refused, naming the choices; a known one applies next turn.
            do {
                try await adapter.setModel("huge")
                Issue.record("an unknown model was accepted")
            } catch {
                #expect("\(error)".contains("offers no model 'huge'; it offers: small, large"), "\(error)")
            }
            try await adapter.setModel("large")
            let next = try await Self.turn(adapter, log, "again", endingIn: .idle)
            #expect(next.last { $0.type == .done }?.extra["model"] == .string("large"))
        }
        var refusing = FakeACPAgent()
        refusing.prompt = [#"{"jsonrpc":"2.0","id":$ID,"result":{"stopReason":"refusal"}}"#]
        try await Self.withAdapter(refusing) { adapter, log, _ in
            let messages = try await Self.turn(adapter, log, "hi", endingIn: .error)
            #expect(messages.last { $0.type == .error }?.content == "The 'fake' agent (fake-agent) refused to go on with this turn (stopReason refusal).")
        }
    }

    @Test("An agent that ignores session/cancel is stopped after the grace, and the next turn starts it again")
    func ignoredCancel() async throws {
        var agent = FakeACPAgent()
        // Never answers the prompt.
        agent.prompt = [#"{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"fake-1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"working"}}}}"#]
        try await Self.withAdapter(agent) { adapter, log, binary in
            let mark = log.events.count
            try await adapter.sendMessage("hang")
            try await log.waitForMessage(within: .seconds(30)) { $0.content == "working" }
            let first = ProcessTable.descendants().entries.values.filter { $0.commandLine.contains(binary) && $0.state != "Z" }.map(\.pid)
            #expect(first.count == 1)
            try await adapter.interrupt()
            try await log.waitForStatus(.interrupted, after: mark, within: .seconds(30))
            #expect(ProcessTable.descendants().entries.values.filter { first.contains($0.pid) && $0.state != "Z" }.isEmpty, "the agent was killed")
            // The next turn starts a new process to restore the session, which this agent
            // cannot do: a clear error, not a silent new conversation.
            let messages = try await Self.turn(adapter, log, "again", endingIn: .error)
            #expect(messages.last { $0.type == .error }?.content.contains("cannot restore the agent session 'fake-1'") == true, "\(messages)")
        }
    }
}
