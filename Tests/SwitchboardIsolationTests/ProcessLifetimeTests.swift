import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardProcess
import SwitchboardTesting

/// Processes never outlive the daemon: not its agents, not its plugin helpers — even when it
/// is killed with SIGKILL; and a new daemon reaps what a dead one left.
@Suite("Processes die with the daemon", .serialized, .childProcessGate)
struct ProcessLifetimeTests {
    /// A fake `opencode` on PATH that runs the built fake server.
    static func fakeOpenCode(in dir: TemporaryDirectory) throws -> JSONValue {
        let bin = dir.path + "/bin"
        let data = dir.path + "/opencode-data"
        for path in [bin, data] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        try "#!/bin/sh\nexec '\(BuildProducts.executable("fake-opencode"))' \"$@\"\n".write(toFile: bin + "/opencode", atomically: true, encoding: .utf8)
        chmod(bin + "/opencode", 0o755)
        return .object(["env": .object([
            "PATH": .string(bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")),
            "FAKE_OPENCODE_DATA": .string(data), "FAKE_OPENCODE_PROTOCOL": .string("1.2"),
        ]), "readyTimeoutSeconds": .int(20)])
    }

    @Test("SIGKILL of the daemon with live Claude, OpenCode and scripted sessions leaves no agent process or helper")
    func sigkill() async throws {
        let claude = try ClaudeCLI.requireBinary()
        try await MockAnthropicAPI.run { api in
            api.enqueue(.text("Hello from the mock."))
            let dir = try TemporaryDirectory(prefix: "switchboard-sigkill")
            defer { dir.remove() }
            let project = dir.path + "/project"
            try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
            var env: [String: JSONValue] = [:]
            for (name, value) in ClaudeCLI.environment(home: dir.path, api: api) { env[name] = .string(value) }
            let claudeSettings = JSONValue.object(["binary": .string(claude), "env": .object(env)])
            let agents = """
            {"claude": {"plugin": "libClaudeAdapter.so", "isolation": "process", "settings": \(claudeSettings.jsonText)},
             "opencode": {"plugin": "libOpenCodeAdapter.so", "settings": \(try Self.fakeOpenCode(in: dir).jsonText)},
             "scripted": {"plugin": "libScriptedAdapter.so", "isolation": "process", "settings": {"turns": [{"hang": true}], "loop": true}}}
            """
            let daemon = try await LiveDaemon(agents: agents)
            var sessions: [String: String] = [:]
            for type in ["claude", "opencode", "scripted"] {
                let answer = try await daemon.http(.POST, "/v1/sessions", body: JSONValue.object([
                    "workspace": .string("@host"), "agentType": .string(type), "projectPath": .string(project),
                ]).jsonText)
                #expect(answer.status == 201, "\(type): \(answer.body.jsonText)")
                sessions[type] = answer.body["sessionId"]?.stringValue
            }
            // Turns that run agent processes: Claude answers, OpenCode's server and the
            // scripted turn stay busy.
            for (type, text) in [("claude", "Say hello"), ("scripted", "hang")] {
                try await daemon.say(try #require(sessions[type]), text)
            }
            try await daemon.waitForReply(try #require(sessions["claude"]), "Hello from the mock.", within: .seconds(60))
            let before = ProcessTable.descendants(of: daemon.process.pid, includingPluginHosts: true)
            let helpers = before.entries.values.filter { $0.commandLine.contains("switchboard-plugin-host") }
            #expect(helpers.count == 2, "\(before.entries.values.map(\.description))")
            #expect(before.entries.values.contains { $0.commandLine.contains("fake-opencode") }, "\(before.entries.values.map(\.description))")
            #expect(before.entries.values.contains { $0.commandLine.contains("claude") }, "\(before.entries.values.map(\.description))")

            daemon.process.signal(SIGKILL)
            _ = try await daemon.process.waitForExit(within: .seconds(10))
            try await eventually("every agent process and helper to end", within: .seconds(5)) {
                before.entries.values.allSatisfy { entry in
                    guard let now = ProcessStat.read(entry.pid), now.startTime == entry.startTime else { return true }
                    return now.state == "Z"
                }
            }
        }
    }

    @Test("A new daemon kills the process groups a dead daemon recorded")
    func reapsLeftovers() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-reap")
        defer { dir.remove() }
        let records = dir.path + "/state/processes"
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        // A stand-in for an agent a crashed daemon left: a process group of its own.
        let leftover = try await SpawnedProcess.start("/bin/sh", ["-c", "exec setsid -w sleep 600"])
        var group: Int32 = 0
        try await eventually("the leftover to have its own group") {
            // setsid forks when its caller leads a group: find the sleep among its children.
            guard let stat = ProcessStat.all().first(where: { $0.command == "sleep" && ($0.parent == leftover.pid || $0.pid == leftover.pid) }) else { return false }
            group = stat.group
            return stat.group == stat.pid
        }
        let start = try #require(ProcessStat.read(group)).startTime
        // Its owner is a pid that no longer runs (start time 1 never matches).
        try "owner 999999 1\n+\(group) \(start)\n".write(toFile: records + "/999999-1-1.groups", atomically: true, encoding: .utf8)
        let daemon = try await LiveDaemon(agents: "{}", in: dir)
        try await eventually("the leftover to be killed", within: .seconds(10)) {
            guard let stat = ProcessStat.read(group) else { return true }
            return stat.state == "Z"
        }
        #expect(!FileManager.default.fileExists(atPath: records + "/999999-1-1.groups"))
        #expect(daemon.process.stderr.contains("killed 1 process group(s) a previous daemon left running"), "\(daemon.process.stderr)")
        #expect(try await daemon.stop() == 0)
    }
}
