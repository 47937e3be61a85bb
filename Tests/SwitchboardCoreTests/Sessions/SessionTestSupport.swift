import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// A store for manager tests that keeps records in memory and can be told to fail.
actor TestStore: SessionStore {
    var records: [String: SessionRecord] = [:]
    var failLinks = false

    func setFailLinks(_ flag: Bool) { failLinks = flag }

    func create(_ record: SessionRecord) async throws {
        guard records[record.id] == nil else { throw SessionStoreError(.duplicateID, "duplicate \(record.id)") }
        records[record.id] = record
    }
    func linkAgentSession(_ id: String, agentSessionId: String, at time: Int64) async throws {
        if failLinks { throw SessionStoreError(.writeFailed, "Session store 'test' is read-only.") }
        guard records[id] != nil else { throw SessionStoreError(.notFound, "no \(id)") }
        records[id]!.agentSessionId = agentSessionId
        records[id]!.lastActivity = time
    }
    func touch(_ id: String, at time: Int64, model: String?) async throws {
        guard records[id] != nil else { throw SessionStoreError(.notFound, "no \(id)") }
        records[id]!.lastActivity = time
        if let model { records[id]!.model = model }
    }
    func get(_ id: String) async throws -> SessionRecord? { records[id] }
    func find(agentSessionId: String) async throws -> SessionRecord? {
        records.values.filter { $0.agentSessionId == agentSessionId }.max { $0.lastActivity < $1.lastActivity }
    }
    func list(workspace: String?) async throws -> [SessionRecord] {
        records.values.filter { workspace == nil || $0.workspaceName == workspace }.sorted { $0.lastActivity > $1.lastActivity }
    }
    func importSession(_ record: SessionRecord) async throws -> SessionRecord {
        if let existing = records[record.id] { return existing }
        records[record.id] = record
        return record
    }
    func delete(_ id: String) async throws { records[id] = nil }

    /// The audit log, kept by the shipped in-memory store.
    let decisionLog = InMemorySessionStore()
    func recordDecision(_ record: DecisionRecord) async throws { try await decisionLog.recordDecision(record) }
    func closeDecision(_ record: DecisionRecord) async throws -> Bool { await decisionLog.closeDecision(record) }
    func decision(_ id: String) async throws -> DecisionRecord? { await decisionLog.decision(id) }
    func decisions(_ query: DecisionQuery) async throws -> [DecisionRecord] { await decisionLog.decisions(query) }
    func expirePendingDecisions(at time: Int64) async throws -> Int { await decisionLog.expirePendingDecisions(at: time) }

    // The event log, the queue and client message ids, kept by the shipped in-memory store too.
    func appendFrames(_ frames: [LoggedFrame]) async throws { await decisionLog.appendFrames(frames) }
    func frames(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame] {
        await decisionLog.frames(sessionId, after: seq, limit: limit).map { frame in
            var copy = frame
            if corrupted.contains(frame.seq) { copy.json = "{not json" }
            return copy
        }
    }
    /// Rows that read back as text that is no frame.
    var corrupted: Set<Int> = []
    func corrupt(_ seq: Int) { corrupted.insert(seq) }
    func frameBounds(_ sessionId: String) async throws -> ClosedRange<Int>? { await decisionLog.frameBounds(sessionId) }
    func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) async throws -> Int { await decisionLog.pruneFrames(sessionId, retention: retention, now: now) }
    func sessionsWithFrames(before time: Int64) async throws -> [String] { await decisionLog.sessionsWithFrames(before: time) }
    func enqueueMessage(_ message: QueuedMessage) async throws { await decisionLog.enqueueMessage(message) }
    func removeQueuedMessage(_ sessionId: String, queueId: String) async throws -> Bool { await decisionLog.removeQueuedMessage(sessionId, queueId: queueId) }
    func queuedMessages(_ sessionId: String?) async throws -> [QueuedMessage] { await decisionLog.queuedMessages(sessionId) }
    func recordClientMessage(_ record: ClientMessageRecord) async throws { await decisionLog.recordClientMessage(record) }
    func clientMessage(_ sessionId: String, _ clientMessageId: String) async throws -> ClientMessageRecord? { await decisionLog.clientMessage(sessionId, clientMessageId) }
}

/// An in-process adapter the test drives by hand: it records what it was asked and emits
/// what the test tells it to.
final class FakeAdapter: ChannelBackedAdapter {
    struct Calls {
        var starts: [StartOptions] = []
        var sends: [String] = []
        var models: [String] = []
        var interrupts = 0
        var disposed = false
    }

    let channel = AdapterEventChannel()
    let calls = Mutex(Calls())
    let sendFailure = Mutex<String?>(nil)
    let startFailure: String?

    init(startFailure: String? = nil) { self.startFailure = startFailure }

    var events: AsyncStream<AdapterEvent> { channel.events }
    var eventChannel: AdapterEventChannel { channel }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    func start(_ options: StartOptions) async throws {
        calls.withLock { $0.starts.append(options) }
        if let startFailure { throw AdapterError(.agentFailure, startFailure) }
    }
    func sendMessage(_ text: String) async throws {
        calls.withLock { $0.sends.append(text) }
        if let failure = sendFailure.withLock({ $0 }) { throw AdapterError(.agentFailure, failure) }
        _ = channel.transition(from: [.idle, .error, .interrupted], to: .running)
    }
    func setModel(_ model: String) async throws { calls.withLock { $0.models.append(model) } }
    func interrupt() async throws {
        calls.withLock { $0.interrupts += 1 }
        _ = channel.transition(from: [.running], to: .interrupted)
    }
    func dispose() async {
        calls.withLock { $0.disposed = true }
        channel.finish()
    }

    /// Ends the turn as a real agent would.
    func finishTurn(reply: String) {
        channel.emit(ChatMessage(type: .assistant, content: reply, messageId: "m"))
        channel.emit(ChatMessage(type: .done, content: "Response complete"))
        channel.setStatus(.idle)
    }
}

/// A registry whose `fake` type makes ``FakeAdapter``s and records them, plus the real
/// scripted plugin as `scripted` and the Codex placeholder as `codex`.
final class TestAgents: Sendable {
    final class Made: Sendable {
        let list = Mutex<[FakeAdapter]>([])
    }

    let registry = AgentRegistry()
    let made = Made()

    init(scriptedSettings: JSONValue = .object([:]), startFailure: String? = nil) throws {
        try registry.register(agentType: "fake") { [made] _ in
            let adapter = FakeAdapter(startFailure: startFailure)
            made.list.withLock { $0.append(adapter) }
            return adapter
        }
        try registry.register(plugin: try PluginLoader.load(BuildProducts.plugin("ScriptedAdapter")), settings: scriptedSettings)
        // A real plugin whose start fails: neither its binary nor its docker client exists.
        try registry.register(plugin: try PluginLoader.load(BuildProducts.plugin("CodexAdapter")),
                              settings: .object(["binary": .string(Self.missingCodex), "docker": .string(Self.missingDocker)]))
    }

    var adapters: [FakeAdapter] { made.list.withLock { $0 } }

    /// The `codex` binary and the `docker` client the Codex plugin is registered with: ones
    /// that do not exist.
    static let missingCodex = "/nonexistent/switchboard-tests/codex"
    static let missingDocker = "/nonexistent/switchboard-tests/docker"
}

