import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The Claude tests that run the real CLI. They run one at a time: they count this
/// process's `claude` children and open descriptors.
@Suite("Claude plugin against the real claude CLI", .serialized, .childProcessGate)
enum ClaudeCLITests {}

/// One test's world: the mock model API, a temporary `HOME` with a project directory, the
/// built `libClaudeAdapter.so` loaded through dlopen, and a store that outlives managers.
struct ClaudeTestbed: Sendable {
    let api: MockAnthropicAPI
    let claude: String
    let home: String
    let project: String
    let store = InMemorySessionStore()
    let plugin: LoadedPlugin
    private let managers = Managers()

    private final class Managers: Sendable {
        let list = Mutex<[SessionManager]>([])
    }

    /// How long a turn of the real CLI may take here (its start-up alone is ~0.5 s; the
    /// machine is small and shared).
    static let turnTimeout: Duration = .seconds(90)
    static let model = "claude-test-1"

    /// Runs `body` with a fresh testbed, then disposes every session of every manager it
    /// made and checks that no `claude` child is left (dispose promises they are reaped).
    static func run(_ body: @Sendable (ClaudeTestbed) async throws -> Void) async throws {
        let claude = try ClaudeCLI.requireBinary()
        let plugin = try PluginLoader.load(BuildProducts.plugin("ClaudeAdapter"))
        let scratch = try TemporaryDirectory(prefix: "switchboard-claude")
        defer { scratch.remove() }
        let project = scratch.path + "/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try await MockAnthropicAPI.run { api in
            let testbed = ClaudeTestbed(api: api, claude: claude, home: scratch.path, project: project, plugin: plugin)
            do {
                try await body(testbed)
            } catch {
                await testbed.disposeAll()
                throw error
            }
            await testbed.disposeAll()
            #expect(claudeChildren().isEmpty, "claude processes left after dispose: \(claudeChildren())")
        }
    }

    /// Disposes every session of every manager this testbed made.
    func disposeAll() async {
        for manager in managers.list.withLock({ $0 }) { await manager.disposeAll() }
    }

    /// The settings that run the real CLI against the mock: binary, environment, short
    /// grace periods; `extra` adds or replaces keys.
    func settings(_ extra: [String: JSONValue] = [:]) -> JSONValue {
        var env: [String: JSONValue] = [:]
        for (name, value) in ClaudeCLI.environment(home: home, api: api) { env[name] = .string(value) }
        var settings: [String: JSONValue] = [
            "binary": .string(claude),
            "env": .object(env),
            "interruptGraceSeconds": .int(3),
            "shutdownGraceSeconds": .int(3),
        ]
        for (key, value) in extra { settings[key] = value }
        return .object(settings)
    }

    /// A manager whose `claude` agent type is the plugin with `settings`, under `approvals`.
    func manager(settings: JSONValue? = nil, approvals: ApprovalPolicy = ApprovalPolicy()) throws -> SessionManager {
        let registry = AgentRegistry()
        try registry.register(plugin: plugin, settings: settings ?? self.settings())
        let manager = SessionManager(registry: registry, store: store, configuration: .init(approvals: approvals))
        managers.list.withLock { $0.append(manager) }
        return manager
    }

    /// Starts a host session in the project directory and connects a recording client.
    func open(_ manager: SessionManager, workspace: String = "@host", agentSessionId: String? = nil,
              model: String? = ClaudeTestbed.model) async throws -> (id: String, client: ClientRecorder) {
        let id = try await manager.start(SessionStartOptions(
            workspaceName: workspace, agentType: "claude", agentSessionId: agentSessionId, model: model, projectPath: project
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
        try await session.client.waitForTurnEnd(after: mark, within: Self.turnTimeout)
        let frames = Array(session.client.received.dropFirst(mark))
        let messages = frames.map(\.message)
        let final = frames.last { $0.notice?.status != nil }?.notice
        #expect(final == .status(status), "turn '\(text)': \(messages.map { "\($0.type.rawValue): \($0.content)" })")
        return messages
    }

    /// This process's `claude` children (in container mode the fake docker execs claude).
    static func claudeChildren() -> [ProcessInspection.Process] {
        ProcessInspection.children().filter { child in
            child.name.hasPrefix("claude") || commandLine(child.pid).contains { $0.hasSuffix("/claude") || $0 == "claude" }
        }
    }

    /// The command line of a process.
    static func commandLine(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Checks `condition` every 20 ms until it holds; fails with `failure` after `timeout`.
    /// Only for conditions that no event announces and that other tests running in parallel
    /// may disturb for a moment (this process's descriptor table).
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

extension ClientRecorder {
    /// Waits for the `{"status":"idle|error|interrupted"}` notice that ends a turn (after
    /// frame `index`).
    func waitForTurnEnd(after index: Int, within timeout: Duration) async throws {
        try await frames.wait(within: timeout) { frames in
            frames.dropFirst(index).contains { frame in
                guard let status = frame.notice?.status else { return false }
                return status != .running
            }
        }
    }

    /// Waits until a message after frame `index` satisfies `predicate`.
    func waitForMessage(after index: Int, within timeout: Duration = ClaudeTestbed.turnTimeout,
                        where predicate: @escaping @Sendable (ChatMessage) -> Bool) async throws {
        try await frames.wait(within: timeout) { frames in frames.dropFirst(index).contains { predicate($0.message) } }
    }
}
