import Foundation
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The Codex adapter against the real `codex` CLI and the mock Responses API:
/// - the turn overhead it adds — the mock writes a turn's first delta → a session client
///   receives it as a chat message (through `codex app-server`, the pipe, the plugin, the C
///   boundary and the session manager);
/// - time to the first text of a turn with the warm app-server, against a process per turn
///   (`codex exec --json … resume <thread>`, which prints whole messages only).
///
/// Needs the CLI (`bash .ci/install-codex`); prints a note and returns without it.
func runCodexBenchmarks(quick: Bool, pluginDirectory: String) async throws {
    print("")
    print("9. Codex adapter with the real codex \(CodexCLI.version) and the mock Responses API on loopback")
    let codex: String
    let plugin: LoadedPlugin
    do {
        codex = try CodexCLI.requireBinary()
        plugin = try PluginLoader.load(FilePaths.join(pluginDirectory, "libCodexAdapter.so"))
    } catch {
        print("   skipped: \(error)")
        return
    }
    let turns = quick ? 5 : 30
    let spawns = quick ? 3 : 10

    try await MockResponsesAPI.run { api in
        let home = try CodexCLI.makeHome(api: api)
        defer { home.remove() }
        var env: [String: JSONValue] = [:]
        for (name, value) in CodexCLI.environment(home: home) { env[name] = .string(value) }
        let registry = AgentRegistry()
        try registry.register(plugin: plugin, settings: .object(["binary": .string(codex), "env": .object(env)]))
        let manager = SessionManager(registry: registry, store: NullStore())
        api.setDefaultReply(.text("The ", "quick ", "brown ", "fox."))

        // A session whose app-server stays up; the first turn starts it.
        let clock = FirstDeltaClock()
        let id = try await manager.start(SessionStartOptions(workspaceName: hostWorkspaceName, agentType: "codex",
                                                             model: CodexCLI.model, projectPath: home.project))
        _ = await manager.connect(id, client: clock.client)
        // The mock's message ids are msg_mock_<n>, its response ids resp_mock_<n>.
        let warm = try await measureWarmTurns(manager, session: id, clock: clock, turns: turns) { messageId in
            let responseId = "resp_mock_" + messageId.dropFirst("msg_mock_".count)
            return api.firstDeltas.items.first { $0.responseId == responseId }?.at
        }
        let thread = await manager.info(id)?.agentSessionId
        await manager.dispose(id)

        // A process per turn: `codex exec --json` resuming the same thread each time.
        var coldFirstText: [Double] = []
        var coldTurn: [Double] = []
        if let thread {
            for turn in 0..<spawns {
                let started = ContinuousClock.now
                let exec = try await SpawnedProcess.start("/bin/sh", [
                    "-c", #"exec "$0" exec --json --skip-git-repo-check -m "$1" resume "$2" "$3" </dev/null"#,
                    codex, CodexCLI.model, thread, "Exec turn \(turn)",
                ], environment: CodexCLI.environment(home: home))
                defer { exec.terminate() }
                _ = try await exec.waitForLine(containing: #""type":"agent_message""#)
                coldFirstText.append(milliseconds(ContinuousClock.now - started))
                try await exec.waitForExit()
                coldTurn.append(milliseconds(ContinuousClock.now - started))
            }
        }

        print("   turn overhead, mock's first delta written -> client has the chat message:")
        print("     \(describe(warm.overhead))")
        print("   time to the first text after send:")
        print("     warm app-server (second and later turns): \(describe(warm.firstDelta))")
        print("     codex exec --json per turn (whole message): \(describe(coldFirstText))")
        print("   whole turn: warm app-server \(describe(warm.whole))")
        print("               exec per turn   \(describe(coldTurn))")
        let warmSorted = warm.firstDelta.sorted()
        let cold = coldFirstText.sorted()
        if !warmSorted.isEmpty, !cold.isEmpty {
            let (w, c) = (warmSorted[warmSorted.count / 2], cold[cold.count / 2])
            print(String(format: "     keeping the app-server saves %.0f ms per turn to the first text (%.1fx faster)", c - w, c / max(w, 0.001)))
        }
    }
}
