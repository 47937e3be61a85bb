import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The Codex tests that run the real CLI. They run one at a time: they count this process's
/// `codex` children and open descriptors.
@Suite("Codex plugin against the real codex app-server", .serialized, .childProcessGate)
enum CodexCLITests {}

/// One test's world: the mock Responses API, a Codex home (HOME and CODEX_HOME, outside
/// `/tmp`) with a project directory and a `config.toml` naming the mock as the provider, the
/// built `libCodexAdapter.so` loaded through dlopen, and a store that outlives managers.
struct CodexTestbed: Sendable {
    let api: MockResponsesAPI
    let codex: String
    let home: CodexHome
    let store = InMemorySessionStore()
    let plugin: LoadedPlugin
    private let managers = Managers()

    private final class Managers: Sendable {
        let list = Mutex<[SessionManager]>([])
    }

    /// How long a turn of the real CLI may take here (the machine is small and shared).
    static let turnTimeout: Duration = .seconds(90)
    static let model = CodexCLI.model

    var project: String { home.project }

    /// Runs `body` with a fresh testbed, then disposes every session of every manager it
    /// made, checks that no `codex` child is left, and removes the home.
    static func run(_ body: @Sendable (CodexTestbed) async throws -> Void) async throws {
        let codex = try CodexCLI.requireBinary()
        let plugin = try PluginLoader.load(BuildProducts.plugin("CodexAdapter"))
        try await MockResponsesAPI.run { api in
            let home = try CodexCLI.makeHome(api: api)
            defer { home.remove() }
            let bed = CodexTestbed(api: api, codex: codex, home: home, plugin: plugin)
            do {
                try await body(bed)
            } catch {
                await bed.disposeAll()
                throw error
            }
            await bed.disposeAll()
            #expect(codexChildren().isEmpty, "codex processes left after dispose: \(codexChildren())")
        }
    }

    /// Disposes every session of every manager this testbed made.
    func disposeAll() async {
        for manager in managers.list.withLock({ $0 }) { await manager.disposeAll() }
    }

    /// The settings that run the real CLI against the mock: binary, environment, short
    /// graces; `extra` adds or replaces keys.
    func settings(_ extra: [String: JSONValue] = [:]) -> JSONValue {
        var env: [String: JSONValue] = [:]
        for (name, value) in CodexCLI.environment(home: home) { env[name] = .string(value) }
        var settings: [String: JSONValue] = [
            "binary": .string(codex), "env": .object(env),
            "interruptGraceSeconds": .int(5), "shutdownGraceSeconds": .int(3),
            // Nothing asks unless a test says so (the approval tests do).
            "approvalPolicy": .string("never"),
        ]
        for (key, value) in extra { settings[key] = value }
        return .object(settings)
    }

    /// A manager whose `codex` agent type is the plugin with `settings`, under `approvals`.
    func manager(settings: JSONValue? = nil, approvals: ApprovalPolicy = ApprovalPolicy()) throws -> SessionManager {
        let registry = AgentRegistry()
        try registry.register(plugin: plugin, settings: settings ?? self.settings())
        let manager = SessionManager(registry: registry, store: store, configuration: .init(approvals: approvals))
        managers.list.withLock { $0.append(manager) }
        return manager
    }

    /// Starts a host session in the project directory and connects a recording client.
    func open(_ manager: SessionManager, workspace: String = "@host", agentSessionId: String? = nil,
              model: String? = CodexTestbed.model) async throws -> (id: String, client: ClientRecorder) {
        let id = try await manager.start(SessionStartOptions(
            workspaceName: workspace, agentType: "codex", agentSessionId: agentSessionId, model: model, projectPath: project
        ))
        let client = ClientRecorder()
        _ = await manager.connect(id, client: client.client)
        return (id, client)
    }

    /// Sends `text` and waits until the turn ends in `status`; returns the messages of the turn.
    @discardableResult
    func turn(_ manager: SessionManager, _ session: (id: String, client: ClientRecorder), _ text: String,
              endingIn status: SessionStatus = .idle) async throws -> [ChatMessage] {
        let mark = session.client.received.count
        try await manager.send(session.id, text: text)
        try await session.client.frames.wait(within: Self.turnTimeout) { frames in
            frames.dropFirst(mark).contains { $0.notice?.status.map { $0 != .running } ?? false }
        }
        let frames = Array(session.client.received.dropFirst(mark))
        let messages = frames.map(\.message)
        let final = frames.last { $0.notice?.status != nil }?.notice
        #expect(final == .status(status), "turn '\(text)': \(messages.map { "\($0.type.rawValue): \($0.content)" })")
        return messages
    }

    /// Waits until a message after frame `index` satisfies `predicate`.
    static func waitForMessage(_ client: ClientRecorder, after index: Int, within timeout: Duration = turnTimeout,
                               where predicate: @escaping @Sendable (ChatMessage) -> Bool) async throws {
        try await client.frames.wait(within: timeout) { frames in frames.dropFirst(index).contains { predicate($0.message) } }
    }

    /// The assistant text of `messages`, deltas joined.
    static func assistantText(_ messages: [ChatMessage]) -> String {
        messages.filter { $0.type == .assistant }.map(\.content).joined()
    }

    /// This process's `codex` children (in container mode the fake docker execs codex).
    static func codexChildren() -> [ProcessInspection.Process] {
        ProcessInspection.children().filter { child in
            child.name.hasPrefix("codex") || commandLine(child.pid).contains { $0.hasSuffix("/codex") || $0 == "codex" }
        }
    }

    /// The command line of a process.
    static func commandLine(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Processes under this one whose command line contains `marker`.
    static func processes(containing marker: String) -> [ProcessTable.Entry] {
        ProcessTable.descendants().entries.values.filter { $0.commandLine.contains(marker) && $0.state != "Z" }
    }

    /// Checks that nothing of the process `groups` is left: no live member, at once; and no
    /// member at all within a bound. Codex runs helpers of its own (a shell that snapshots the
    /// environment); killed with the group at the same time as their parent, they are
    /// orphaned to PID 1, which reaps them about a second later here.
    static func expectGroupsGone(_ groups: [Int32]) async throws {
        let live = groups.flatMap { ProcessInspection.members(ofGroup: $0) }.filter { !$0.isZombie }
        #expect(live.isEmpty, "processes still running in the codex process groups: \(live)")
        var left: [ProcessInspection.Process] = []
        try await poll(within: .seconds(15), "processes left in the codex process groups: \(left)") {
            left = groups.flatMap { ProcessInspection.members(ofGroup: $0) }
            return left.allSatisfy { $0.isZombie && $0.parent == 1 } ? left.isEmpty : false
        }
    }

    /// Checks `condition` every 20 ms until it holds; fails after `timeout`. Only for states
    /// no event announces (a command's process appearing or going away, descriptors).
    static func poll(within timeout: Duration, _ failure: @autoclosure () -> String, _ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !condition() {
            guard clock.now < deadline else {
                Issue.record(Comment(rawValue: failure()))
                throw PollTimeout()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct PollTimeout: Error {}
}
