import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// Live sessions are bounded: idle ones expire (and stay restorable), and no more than
/// `maxLiveSessions` run at once.
@Suite("Session manager: idle expiry and the live-session cap")
struct SessionExpiryTests {
    let agents: TestAgents
    let store = TestStore()

    init() throws {
        agents = try TestAgents()
    }

    func manager(idle: Duration? = .seconds(3600), maxLive: Int? = nil) -> SessionManager {
        var configuration = SessionManager.Configuration()
        configuration.sessionIdleTimeout = idle
        configuration.maxLiveSessions = maxLive
        return SessionManager(registry: agents.registry, store: store, configuration: configuration)
    }

    static let hourMs: Int64 = 3_600_000

    @Test("Only sessions with no client and no running turn expire; they stay in the store and find() restores them")
    func onlyIdleSessionsExpire() async throws {
        let manager = manager()
        let idle = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let watched = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let busy = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(watched, client: client.client)
        try await manager.send(busy, text: "work")
        #expect(await manager.status(busy) == .running)

        let now = Int64(Timestamp.epochMilliseconds())
        #expect(await manager.expireIdleSessions(now: now + Self.hourMs / 2).isEmpty)
        #expect(await manager.expireIdleSessions(now: now + 2 * Self.hourMs) == [idle])
        #expect(await manager.info(idle) == nil)
        #expect(await manager.info(watched) != nil)
        #expect(await manager.info(busy) != nil)
        #expect(agents.adapters[0].calls.withLock { $0.disposed })
        #expect(try await store.get(idle) != nil)

        let restored = try #require(try await manager.find(idle))
        #expect(restored.id == idle && restored.status == .idle)
        #expect(agents.adapters.count == 4)
    }

    @Test("The idle time counts from when the last client left")
    func idleCountsFromLastClient() async throws {
        let manager = manager()
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        let clientId = try #require(await manager.connect(id, client: client.client))
        let start = Int64(Timestamp.epochMilliseconds())
        // Attached for "two hours": never expires while attached.
        #expect(await manager.expireIdleSessions(now: start + 2 * Self.hourMs).isEmpty)
        await manager.disconnect(id, clientId: clientId)
        let left = Int64(Timestamp.epochMilliseconds())
        #expect(await manager.expireIdleSessions(now: left + Self.hourMs - 1000).isEmpty)
        #expect(await manager.expireIdleSessions(now: left + Self.hourMs + 1000) == [id])
    }

    @Test("runIdleExpiry disposes a session once it has been idle for the configured time")
    func expiryLoop() async throws {
        let manager = manager(idle: .milliseconds(200))
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let kept = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        let client = ClientRecorder()
        _ = await manager.connect(kept, client: client.client)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await manager.runIdleExpiry() }
            let gone = Recorder<Bool>()
            group.addTask {
                while await manager.info(id) != nil { try await Task.sleep(for: .milliseconds(20)) }
                gone.append(true)
            }
            try await gone.wait(within: .seconds(15)) { !$0.isEmpty }
            group.cancelAll()
        }
        #expect(await manager.info(kept) != nil)
        #expect(try await store.get(id) != nil)
    }

    @Test("Without an idle timeout nothing expires and the loop returns at once")
    func noTimeout() async throws {
        let manager = manager(idle: nil)
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        #expect(await manager.expireIdleSessions(now: Int64.max).isEmpty)
        await manager.runIdleExpiry()
        #expect(await manager.info(id) != nil)
    }

    @Test("Extreme times and timeouts neither trap nor expire what they should not")
    func extremes() async throws {
        let manager = manager(idle: .seconds(Int64.max))
        let id = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        #expect(await manager.expireIdleSessions(now: Int64.min).isEmpty)
        #expect(await manager.expireIdleSessions(now: Int64.max).isEmpty)
        #expect(await manager.info(id) != nil)
        let hourly = self.manager()
        let other = try await hourly.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        #expect(await hourly.expireIdleSessions(now: Int64.min).isEmpty)
        #expect(await hourly.expireIdleSessions(now: Int64.max) == [other])
    }

    @Test("At maxLiveSessions a start is refused with liveSessionLimit; live ids and restores of live sessions still work")
    func cap() async throws {
        let manager = manager(maxLive: 2)
        let a = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        _ = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        do {
            _ = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
            Issue.record("a third session started")
        } catch let error as SessionError {
            #expect(error.code == .liveSessionLimit)
            #expect(error.message == "This server already runs 2 live sessions, the most it allows (maxLiveSessions). Delete a session or let an idle one expire, then try again.")
        }
        // Naming a live session starts nothing, so it is not refused.
        #expect(try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake", sessionId: a)) == a)
        #expect(agents.adapters.count == 2)
        await manager.dispose(a)
        // A restore counts like a start.
        _ = try await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))
        await #expect(throws: SessionError.self) { try await manager.find(a) }
    }

    @Test("Concurrent starts never exceed the cap")
    func concurrentStarts() async throws {
        let manager = manager(maxLive: 3)
        let started = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<12 {
                group.addTask { (try? await manager.start(SessionStartOptions(workspaceName: "w", agentType: "fake"))) != nil }
            }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(started == 3)
        #expect(await manager.list().count == 3)
    }
}
