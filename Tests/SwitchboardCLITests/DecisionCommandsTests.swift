import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// The terminal clients of decision requests: `chat` asks at the terminal, `attach` is an
/// interactive client of the daemon, `requests` answers from scripts.
@Suite("switchboard chat, attach and requests with decision requests", .serialized, .childProcessGate)
struct DecisionCommandsTests {
    static let asking = #"[{"messages":[{"ask":{"toolName":"Bash","input":{"command":"touch notes.txt"},"options":["allow","allow_session","deny"]}},{"type":"assistant","content":"after"}]}]"#

    static func agents(_ turns: String = asking) -> String {
        #"{"claude": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": \#(turns)}}}"#
    }

    /// A config file in `dir` pointing at the daemon's state and port.
    static func config(for daemon: LiveDaemon) throws -> String {
        try daemon.directory.write("client.json", """
        {"stateDirectory": "state", "server": {"port": \(daemon.port)}, "pluginDirectories": ["\(BuildProducts.directory)"], "agents": \(agents())}
        """)
    }

    @Test("chat asks at the terminal; the answer typed reaches the agent")
    func chatAsks() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("config.json", #"{"stateDirectory": "state", "server": {"port": 1}, "agents": \#(Self.agents())}"#)
        let chat = try await SpawnedProcess.start(BuildProducts.executable("switchboard"), ["chat", "--config", config, "--agent", "claude", "hi"])
        defer { chat.terminate() }
        chat.write("y\n")
        #expect(try await chat.waitForExit() == 0, "\(chat.stderr)")
        let output = chat.lines.items
        #expect(output.contains("Allow Bash: touch notes.txt? [y]es / [s]ession / [n]o "), "\(output)")
        #expect(output.contains("  ✓ allow (by terminal)"), "\(output)")
        #expect(output.contains("  ↳ allow"), "\(output)")
        #expect(output.last == "after")
    }

    @Test("chat with no one at the terminal denies and says why")
    func chatWithoutTerminal() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("config.json", #"{"stateDirectory": "state", "server": {"port": 1}, "agents": \#(Self.agents())}"#)
        let result = try ChildProcess.run(BuildProducts.executable("switchboard"), ["chat", "--config", config, "--agent", "claude", "hi"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  ✗ deny (by terminal): Nobody was at the terminal to decide."), "\(result.stdout)")
    }

    @Test("chat while the daemon runs goes through it (and says so); --session continues there; sessions show --history prints the conversation")
    func chatThroughDaemon() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents(#"[{"echo": true}]"#))
        let config = try Self.config(for: daemon)
        let switchboard = BuildProducts.executable("switchboard")
        let first = try ChildProcess.run(switchboard, ["chat", "--config", config, "--agent", "claude", "hello there"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("(through the daemon at http://127.0.0.1:\(daemon.port))"), "\(first.stderr)")
        #expect(first.stdout.contains("hello there"), "\(first.stdout)")
        let id = try #require(first.stderr.firstMatch(of: /Session: (\S+)/).map { String($0.1) }, "\(first.stderr)")
        let shown = try await daemon.http(.GET, "/v1/sessions/\(id)")
        #expect(shown.body["live"] == .bool(true), "the session lives in the daemon")

        let second = try ChildProcess.run(switchboard, ["chat", "--config", config, "--session", id, "and again"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("and again") && !second.stdout.contains("hello there"), "only this turn: \(second.stdout)")

        let history = try ChildProcess.run(switchboard, ["sessions", "show", "--config", config, id, "--history"])
        #expect(history.status == 0, "\(history.stderr)")
        let lines = history.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("> hello there") && lines.contains("> and again"), "\(lines)")
        #expect((lines.firstIndex(of: "> hello there") ?? 99) < (lines.firstIndex(of: "> and again") ?? 0))
        try await daemon.stop()
        // Without the daemon the history comes from the store.
        let stored = try ChildProcess.run(switchboard, ["sessions", "show", "--config", config, id, "--history", "--json"])
        #expect(stored.status == 0 && stored.stderr.contains("using the session store directly"), "\(stored.stderr)")
        #expect(stored.stdout.split(separator: "\n").filter { $0.contains(#""type":"user""#) }.count == 2, "\(stored.stdout)")
    }

    @Test("attach shows the session, sends typed lines as messages, and answers requests at its prompt")
    func attach() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents())
        let config = try Self.config(for: daemon)
        let started = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","agentType":"claude"}"#)
        let id = try #require(started.body["sessionId"]?.stringValue)
        let watcher = try await daemon.socket("w")
        watcher.send(["type": .string("connect"), "sessionId": .string(id)])
        try await watcher.waitFor(type: "session_joined")

        let attach = try await SpawnedProcess.start(BuildProducts.executable("switchboard"), ["attach", "--config", config, id])
        defer { attach.terminate() }
        attach.write("make a file\n")
        let prompt = try await attach.waitForLine(containing: "Allow Bash: touch notes.txt?")
        #expect(prompt.hasSuffix("[y]es / [s]ession / [n]o "))
        attach.write("maybe\n")  // not an answer: asked again
        try await attach.lines.wait { $0.filter { $0.contains("Allow Bash: touch notes.txt?") }.count == 2 }
        attach.write("n: not today\n")
        let resolved = try await watcher.waitFor(type: "permission_resolved")
        #expect(resolved["decision"] == .string("deny") && resolved["message"] == .string("not today"))
        #expect(resolved["decider"]?.stringValue?.hasPrefix("client-") == true)
        try await watcher.waitForStatus("idle")
        try await attach.waitForLine(containing: "after")
        #expect(watcher.frames(ofType: "user").first?["content"] == .string("make a file"))
        #expect(watcher.frames(ofType: "tool_result").first?["content"] == .string("deny: not today"))
        attach.write("/quit\n")
        #expect(try await attach.waitForExit() == 0, "\(attach.stderr)")
        await watcher.close()
        #expect(try await daemon.stop() == 0)
    }

    @Test("attach stops asking when another client answers first")
    func answeredElsewhere() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents())
        let config = try Self.config(for: daemon)
        let id = try #require(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","agentType":"claude"}"#).body["sessionId"]?.stringValue)
        let attach = try await SpawnedProcess.start(BuildProducts.executable("switchboard"), ["attach", "--config", config, id])
        defer { attach.terminate() }
        try await attach.waitForLine(containing: "Connected to session")
        _ = try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"go"}"#)
        try await attach.waitForLine(containing: "Allow Bash: touch notes.txt?")
        let pending = try #require(try await daemon.http(.GET, "/v1/requests").body.arrayValue?.first?["requestId"]?.stringValue)
        #expect(try await daemon.http(.POST, "/v1/requests/\(pending)", body: #"{"decision":"allow"}"#).status == 200)
        try await attach.waitForLine(containing: "  ✓ allow (by http)")
        try await attach.waitForLine(containing: "after")
        attach.closeInput()
        #expect(try await attach.waitForExit() == 0, "\(attach.stderr)")
        #expect(attach.stderr.contains("was closed: allow by http"), "\(attach.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("requests list, allow and deny answer through the daemon; errors name the request")
    func requestsCommand() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents())
        let config = try Self.config(for: daemon)
        let switchboard = BuildProducts.executable("switchboard")
        let empty = try ChildProcess.run(switchboard, ["requests", "list", "--config", config])
        #expect(empty.status == 0 && empty.stdout == "Nothing waits for a decision.\n", "\(empty.stdout)\(empty.stderr)")
        let id = try #require(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","agentType":"claude"}"#).body["sessionId"]?.stringValue)
        let watcher = try await daemon.socket("w")
        watcher.send(["type": .string("connect"), "sessionId": .string(id)])
        try await watcher.waitFor(type: "session_joined")
        for (round, command) in [["allow"], ["deny", "--message", "No."]].enumerated() {
            let mark = watcher.frames.items.count
            _ = try await daemon.http(.POST, "/v1/sessions/\(id)/messages", body: #"{"content":"go"}"#)
            let pending = try #require(try await watcher.waitFor(type: "permission_request", after: mark)["requestId"]?.stringValue)
            let list = try ChildProcess.run(switchboard, ["requests", "list", "--config", config])
            #expect(list.stdout.contains(pending) && list.stdout.contains("Bash: touch notes.txt  [allow/allow_session/deny]"), "\(list.stdout)")
            let answered = try ChildProcess.run(switchboard, ["requests"] + [command[0], "--config", config, pending] + command.dropFirst())
            #expect(answered.status == 0, "\(answered.stderr)")
            #expect(answered.stdout == (round == 0 ? "✓ allow (by http)\n" : "✗ deny (by http): No.\n"), "\(answered.stdout)")
            let again = try ChildProcess.run(switchboard, ["requests", "allow", "--config", config, pending])
            #expect(again.status != 0 && again.stderr.contains("was already resolved"), "\(again.stderr)")
            try await watcher.waitForStatus("idle", after: mark)
        }
        await watcher.close()
        let all = try ChildProcess.run(switchboard, ["requests", "list", "--all", "--json", "--config", config])
        #expect(try JSONValue(parsing: all.stdout).arrayValue?.compactMap { $0["decision"]?.stringValue } == ["deny", "allow"])
        let unknown = try ChildProcess.run(switchboard, ["requests", "deny", "--config", config, "req-0-none"])
        #expect(unknown.status != 0 && unknown.stderr.contains("No decision request has the id req-0-none."), "\(unknown.stderr)")
        #expect(try await daemon.stop() == 0)
        let down = try ChildProcess.run(switchboard, ["requests", "list", "--config", config])
        #expect(down.status != 0 && down.stderr.contains("No daemon answers at"), "\(down.stderr)")
    }
}
