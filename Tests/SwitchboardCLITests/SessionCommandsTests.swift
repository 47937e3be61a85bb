import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardTesting

/// `chat`, `sessions` and `import-perry`, run as a user would.
@Suite("switchboard chat, sessions, import-perry", .childProcessGate)
struct SessionCommandsTests {
    /// A directory with a config whose `claude` is the scripted plugin.
    static func setUp(turns: String = #"[{"agentSessionId":"agent-7","messages":[{"type":"assistant","content":"Hello "},{"type":"assistant","content":"there"},{"type":"tool_use","content":"{\"command\":\"ls\"}","toolName":"Bash","toolId":"t1"},{"type":"tool_result","content":"a.txt\nb.txt","toolId":"t1"}]}]"#) throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory()
        let config = try dir.write("config.json", """
        {"stateDirectory": "state", "server": {"port": 1}, "agents": {"claude": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": \(turns)}}}}
        """)
        return (dir, config)
    }

    func switchboard(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(BuildProducts.executable("switchboard"), arguments)
    }

    @Test("chat streams the reply, shows tool calls compactly, and continues a session")
    func chat() throws {
        let (dir, config) = try Self.setUp()
        defer { dir.remove() }
        let first = try switchboard(["chat", "--config", config, "--agent", "claude", "--project-path", dir.path, "hi"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "Hello there\n⚙ Bash: {\"command\":\"ls\"}\n  ↳ a.txt (+1 lines)\n")
        let id = try #require(first.stderr.firstMatch(of: /Session: (session-\d+-[0-9a-z]{7}) \(agent session agent-7\)/)?.1)

        let again = try switchboard(["chat", "--config", config, "--agent", "claude", "--session", "agent-7", "more"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("Session: \(id)"))

        let unknown = try switchboard(["chat", "--config", config, "--agent", "claude", "--session", "nope", "x"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("No session 'nope' is live or stored."))
        let badAgent = try switchboard(["chat", "--config", config, "--agent", "pi", "x"])
        #expect(badAgent.stderr.contains("Unknown agent type 'pi'"))
    }

    @Test("A failed turn makes chat exit non-zero with the agent's error")
    func chatFailure() throws {
        let (dir, config) = try Self.setUp(turns: #"[{"fail":"Not logged in · Please run /login"}]"#)
        defer { dir.remove() }
        let result = try switchboard(["chat", "--config", config, "--agent", "claude", "hi"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: Not logged in · Please run /login"))
    }

    @Test("sessions list/show/delete work from the store when no daemon runs")
    func sessionsWithoutDaemon() throws {
        let (dir, config) = try Self.setUp()
        defer { dir.remove() }
        _ = try switchboard(["chat", "--config", config, "--agent", "claude", "--workspace", "proj", "hi"])
        let list = try switchboard(["sessions", "list", "--config", config, "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stderr.contains("no daemon answers"))
        let rows = try #require(try JSONValue(parsing: list.stdout).arrayValue)
        #expect(rows.count == 1)
        #expect(rows[0]["workspaceName"] == .string("proj") && rows[0]["agentSessionId"] == .string("agent-7"))
        let id = try #require(rows[0]["sessionId"]?.stringValue)
        let table = try switchboard(["sessions", "list", "--config", config, "--workspace", "proj"])
        #expect(table.stdout.hasPrefix("SESSION"))
        #expect(table.stdout.contains(id))
        let show = try switchboard(["sessions", "show", "--config", config, id])
        #expect(show.stdout.contains("agentSessionId   agent-7"))
        #expect(try switchboard(["sessions", "delete", "--config", config, id]).status == 0)
        let gone = try switchboard(["sessions", "show", "--config", config, id])
        #expect(gone.status != 0 && gone.stderr.contains("Session not found: \(id)"))
    }

    @Test("import-perry imports the original registry once")
    func importPerry() throws {
        let (dir, config) = try Self.setUp()
        defer { dir.remove() }
        let registry = try dir.write("session-registry.json", """
        {"version":1,"sessions":{
          "perry-1":{"perrySessionId":"perry-1","workspaceName":"alpha","agentType":"claude","agentSessionId":"c-1","projectPath":"/src/a","createdAt":"2025-06-01T10:00:00.000Z","lastActivity":"2025-06-02T10:00:00.000Z"},
          "perry-2":{"perrySessionId":"perry-2","workspaceName":"beta","agentType":"opencode","agentSessionId":null,"projectPath":null,"createdAt":"2025-06-03T10:00:00.000Z","lastActivity":"2025-06-03T11:00:00.000Z"}}}
        """)
        let first = try switchboard(["import-perry", "--config", config, registry])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("2 imported, 0 already present, 0 skipped"))
        let second = try switchboard(["import-perry", "--config", config, registry])
        #expect(second.stdout.hasPrefix("0 imported, 2 already present, 0 skipped"))
        let list = try switchboard(["sessions", "list", "--config", config, "--json"])
        #expect(try JSONValue(parsing: list.stdout).arrayValue?.map { $0["sessionId"] } == [.string("perry-2"), .string("perry-1")])
        let broken = try switchboard(["import-perry", "--config", config, try dir.write("bad.json", "{")])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("bad.json"))
    }
}
