import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// A session manager whose `scripted` agent type is the real plugin, loaded through dlopen,
/// with the given turns and approval policy, over an in-memory store.
struct DecisionTestbed {
    let manager: SessionManager
    let store: InMemorySessionStore

    init(turns: String, approvals: ApprovalPolicy = ApprovalPolicy(), store: InMemorySessionStore = InMemorySessionStore()) throws {
        let plugin = try PluginLoader.load(BuildProducts.plugin("ScriptedAdapter"))
        let registry = AgentRegistry()
        try registry.register(plugin: plugin, settings: .object(["turns": try JSONValue(parsing: turns)]))
        self.store = store
        manager = SessionManager(registry: registry, store: store, configuration: .init(approvals: approvals))
    }

    /// Starts a session and attaches `clients` recording clients.
    func open(clients count: Int = 1) async throws -> (id: String, clients: [ClientRecorder]) {
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "scripted"))
        var clients: [ClientRecorder] = []
        for _ in 0..<count {
            let client = ClientRecorder()
            _ = await manager.connect(id, client: client.client)
            clients.append(client)
        }
        return (id, clients)
    }

    /// A turn that asks to run `command` in Bash, then says `after` (with the decision as a
    /// tool result when the turn gives no reaction of its own).
    static func askingTurn(_ command: String = "touch notes.txt", options: [String] = [Decision.allow, Decision.allowSession, Decision.deny],
                           then: String = "") -> String {
        let opts = options.map { "\"\($0)\"" }.joined(separator: ",")
        return """
        {"messages":[{"type":"tool_use","content":"{}","toolName":"Bash","toolId":"t1"},
          {"ask":{"toolName":"Bash","toolId":"t1","input":{"command":"\(command)"},"options":[\(opts)]\(then)}},
          {"type":"assistant","content":"after the decision","messageId":"m1"}]}
        """
    }
}
