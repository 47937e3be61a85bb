import Foundation
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The ACP tests that run the real fast-agent. They run one at a time: they count this
/// process's children.
@Suite("ACP plugin against the real fast-agent", .serialized, .childProcessGate)
enum FastAgentTests {}

/// One test's world: the mock Chat Completions API, a fresh fast-agent home and project
/// directory, the built `libACPAdapter.so` loaded through dlopen, and a store that outlives
/// managers.
struct ACPTestbed: Sendable {
    let api: MockChatCompletionsAPI
    let binary: String
    let home: FastAgentHome
    let store = InMemorySessionStore()
    let plugin: LoadedPlugin
    private let managers = Managers()

    private final class Managers: Sendable {
        let list = Mutex<[SessionManager]>([])
    }

    /// How long a turn of the real agent may take here: its first turn includes starting it
    /// (`initialize` takes 2 to 12 s on this small, shared machine).
    static let turnTimeout: Duration = .seconds(120)
    /// The agent type the tests configure.
    static let agentType = "fast"

    var project: String { home.project }

    /// Runs `body` with a fresh testbed, then disposes every session of every manager it
    /// made, checks that no fast-agent process and no command it ran is left, and removes
    /// the directories.
    static func run(_ body: @Sendable (ACPTestbed) async throws -> Void) async throws {
        let binary = try FastAgentCLI.requireBinary()
        let plugin = try PluginLoader.load(BuildProducts.plugin("ACPAdapter"))
        try await MockChatCompletionsAPI.run { api in
            let home = try FastAgentCLI.makeHome()
            defer { home.remove() }
            let bed = ACPTestbed(api: api, binary: binary, home: home, plugin: plugin)
            do {
                try await body(bed)
            } catch {
                await bed.disposeAll()
                throw error
            }
            await bed.disposeAll()
            // Dispose promises the processes are reaped: check at once, no waiting.
            #expect(agentProcesses().isEmpty, "fast-agent processes left after dispose: \(agentProcesses())")
            #expect(processes(containing: home.path).isEmpty, "processes left in the test's directories: \(processes(containing: home.path))")
        }
    }

    /// Disposes every session of every manager this testbed made.
    func disposeAll() async {
        for manager in managers.list.withLock({ $0 }) { await manager.disposeAll() }
    }

    /// The settings that run fast-agent against the mock; `extra` adds or replaces keys.
    func settings(_ extra: [String: JSONValue] = [:]) -> JSONValue {
        var env: [String: JSONValue] = [:]
        for (name, value) in FastAgentCLI.environment(api: api, home: home) { env[name] = .string(value) }
        var settings: [String: JSONValue] = [
            "binary": .string(binary), "env": .object(env),
            "extraArgs": .array(FastAgentCLI.arguments(home: home).map(JSONValue.string)),
            "interruptGraceSeconds": .int(5), "shutdownGraceSeconds": .int(3),
        ]
        for (key, value) in extra { settings[key] = value }
        return .object(settings)
    }

    /// A manager whose agent types (`fast` unless given) are the plugin with their settings.
    func manager(types: [String: JSONValue]? = nil, approvals: ApprovalPolicy = ApprovalPolicy()) throws -> SessionManager {
        let registry = AgentRegistry()
        for (type, settings) in types ?? [Self.agentType: self.settings()] {
            try registry.register(plugin: plugin, as: type, settings: settings)
        }
        return manager(registry: registry, approvals: approvals)
    }

    /// A manager over `registry`.
    func manager(registry: AgentRegistry, approvals: ApprovalPolicy = ApprovalPolicy()) -> SessionManager {
        let manager = SessionManager(registry: registry, store: store, configuration: .init(approvals: approvals))
        managers.list.withLock { $0.append(manager) }
        return manager
    }

    /// Starts a host session in the project directory and connects a recording client.
    func open(_ manager: SessionManager, type: String = ACPTestbed.agentType, agentSessionId: String? = nil,
              project: String? = nil) async throws -> (id: String, client: ClientRecorder) {
        let id = try await manager.start(SessionStartOptions(
            workspaceName: "@host", agentType: type, agentSessionId: agentSessionId, projectPath: project ?? self.project
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
        try await Self.waitForTurnEnd(session.client, after: mark)
        let frames = Array(session.client.received.dropFirst(mark))
        let messages = frames.map(\.message)
        let final = frames.last { $0.notice?.status != nil }?.notice
        #expect(final == .status(status), "turn '\(text)': \(Self.describe(messages))")
        return messages
    }

    /// Waits until a status other than `running` follows frame `index`.
    static func waitForTurnEnd(_ client: ClientRecorder, after index: Int) async throws {
        try await client.frames.wait(within: turnTimeout) { frames in
            frames.dropFirst(index).contains { $0.notice?.status.map { $0 != .running } ?? false }
        }
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

    /// Messages as short lines, for failure messages.
    static func describe(_ messages: [ChatMessage]) -> String {
        messages.map { "\($0.type.rawValue)\($0.toolName.map { "[\($0)]" } ?? ""): \($0.content.prefix(200))" }.joined(separator: " | ")
    }

    /// fast-agent processes under this one (not zombies).
    static func agentProcesses() -> [ProcessTable.Entry] {
        processes(containing: "fast-agent")
    }

    /// Processes under this one whose command line contains `marker` (not zombies).
    static func processes(containing marker: String) -> [ProcessTable.Entry] {
        ProcessTable.descendants().entries.values.filter { $0.commandLine.contains(marker) && $0.state != "Z" }
    }

    /// Checks `condition` every 20 ms until it holds; fails after `timeout`. Only for states
    /// no event announces (a file appearing, a process going away).
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
