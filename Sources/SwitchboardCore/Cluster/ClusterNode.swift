import Logging
import SwitchboardAdapterAPI

/// This daemon as one node of a cluster: it joins the shared store, renews its sessions'
/// leases on a heartbeat, listens for the store's signals (new frames of sessions it mirrors,
/// commands for the sessions it owns, answers to the commands it sent), and fences itself
/// when it could not renew in time.
///
/// ``run(_:)`` does all of it until cancelled, then leaves the cluster (its leases free at
/// once). The ``SessionManager`` it was given asks it to claim, release and forward.
public actor ClusterNode {
    /// This node's settings.
    public nonisolated let settings: ClusterSettings
    /// The shared state.
    public nonisolated let backplane: any ClusterBackplane
    let logger: Logger
    /// How long a forwarded command may wait for its owner's answer.
    public nonisolated let commandTimeout: Duration

    /// The lease state, for `/health`.
    public struct Health: Sendable, Hashable {
        /// This node's id.
        public var nodeId: String
        /// How many leases it held at the last renewal.
        public var leases: Int
        /// How long ago it last renewed, in ms; `nil`: not yet.
        public var renewedAgo: Int64?
        /// Why it does not hold its leases now (it could not renew in time), or `nil`.
        public var problem: String?
    }

    private var waiters: [Int64: OneShot<JSONValue>] = [:]
    /// Answers that arrived before their sender waited for them.
    private var early: [Int64: JSONValue] = [:]
    private var lastRenewal: ContinuousClock.Instant?
    private var heldLeases = 0
    private var problem: String?
    private let wakeCommands: AsyncStream<Void>.Continuation
    private let commandWakes: AsyncStream<Void>

    /// A node with these settings on `backplane`.
    public init(settings: ClusterSettings, backplane: any ClusterBackplane, commandTimeout: Duration = .seconds(15),
                logger: Logger = Logger(label: "switchboard.cluster")) {
        self.settings = settings
        self.backplane = backplane
        self.commandTimeout = commandTimeout
        self.logger = logger
        (commandWakes, wakeCommands) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// This node's id.
    public nonisolated var nodeId: String { settings.nodeId }

    /// How often leases are renewed: a third of their length.
    public nonisolated var heartbeatInterval: Duration { .milliseconds(settings.leaseSeconds * 1000 / 3) }

    /// The lease state now.
    public func health() -> Health {
        let now = ContinuousClock.now
        let ago = lastRenewal.map { last -> Int64 in
            let elapsed = now - last
            return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        }
        return Health(nodeId: settings.nodeId, leases: heldLeases, renewedAgo: ago, problem: problem)
    }

    // MARK: - Leases

    /// Claims a session's lease for this node.
    func claim(_ sessionId: String) async throws -> LeaseClaim {
        try await backplane.claim(sessionId, nodeId: settings.nodeId, leaseSeconds: settings.leaseSeconds)
    }

    /// Gives up a session's lease; a failure is logged (the lease lapses on its own).
    func release(_ sessionId: String) async {
        do {
            try await backplane.release(sessionId, nodeId: settings.nodeId)
        } catch {
            logger.warning("lease not released", metadata: ["session": "\(sessionId)", "error": "\(error)"])
        }
    }

    // MARK: - Forwarding

    /// Sends a command to the node that owns the session and waits for its answer.
    /// - Throws: ``SessionError`` `ownerUnreachable` when the owner did not take it within
    ///   ``commandTimeout`` (then it was withdrawn and never applied), or took it and did not
    ///   answer in time (then it may have been applied); the owner's own error otherwise.
    func forward(_ body: JSONValue, sessionId: String, to owner: String) async throws -> JSONValue {
        let id = try await backplane.post(sessionId: sessionId, from: settings.nodeId, to: owner, body: body)
        let slot = OneShot<JSONValue>()
        if let answer = early.removeValue(forKey: id) { slot.set(answer) }
        waiters[id] = slot
        defer { waiters[id] = nil }
        var answer = await slot.wait(within: commandTimeout)
        if answer == nil {
            if try await backplane.withdraw(id) {
                throw SessionError(.ownerUnreachable, "Node \(owner), which runs session \(sessionId), did not take the request within \(commandTimeout); it was not applied. Try again: once its lease lapses another node takes the session over.")
            }
            answer = try await backplane.answerOf(id)
        }
        guard let answer else {
            throw SessionError(.ownerUnreachable, "Node \(owner), which runs session \(sessionId), took the request but did not answer within \(commandTimeout); it may have been applied.")
        }
        return try ClusterReply.unwrap(answer)
    }

    private func answered(_ id: Int64) async {
        guard let answer = try? await backplane.answerOf(id) else { return }
        if let waiter = waiters[id] {
            waiter.set(answer)
        } else if early.count < 10_000 {
            early[id] = answer
        }
    }

    private func recheckAnswers() async {
        for id in waiters.keys.sorted() { await answered(id) }
    }

    // MARK: - Running

    /// Joins the cluster and keeps this node's part until cancelled, then leaves it.
    /// - Parameter leaves: `false` stops without giving the leases up, as a node that crashed
    ///   would (for measuring a takeover).
    /// - Throws: when joining fails (the daemon cannot be a node then).
    public func run(_ manager: SessionManager, leaves: Bool = true) async throws {
        try await backplane.join(nodeId: settings.nodeId, advertise: settings.advertise)
        logger.notice("joined the cluster", metadata: ["node": "\(settings.nodeId)", "leaseSeconds": "\(settings.leaseSeconds)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenLoop(manager) }
            group.addTask { await self.heartbeatLoop(manager) }
            group.addTask { await self.commandLoop(manager) }
            await group.waitForAll()
        }
        guard leaves else { return }
        do {
            // Run is ending because it was cancelled: the leaving itself is not.
            let backplane = self.backplane, nodeId = settings.nodeId
            try await Task { try await backplane.leave(nodeId: nodeId) }.value
            logger.notice("left the cluster", metadata: ["node": "\(settings.nodeId)"])
        } catch {
            logger.warning("could not leave the cluster cleanly; its leases lapse on their own", metadata: ["error": "\(error)"])
        }
    }

    private func listenLoop(_ manager: SessionManager) async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await backplane.listen({
                    // Listening now: whatever was signalled before is caught up once.
                    await self.resync(manager)
                }, { signal in
                    await self.handle(signal, manager)
                })
                delay = .milliseconds(200)
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for cluster signals failed; listening again", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
            }
            do { try await Task.sleep(for: delay) } catch { return }
            delay = min(delay * 2, .seconds(5))
        }
    }

    private func resync(_ manager: SessionManager) async {
        wakeCommands.yield()
        await recheckAnswers()
        await manager.catchUpMirrors()
    }

    private func handle(_ signal: ClusterSignal, _ manager: SessionManager) async {
        switch signal {
        case .frames(let sessionId, let seq):
            await manager.mirrorHasFrames(sessionId, upTo: seq)
        case .commands(let to):
            if to == settings.nodeId { wakeCommands.yield() }
        case .answered(let to, let id):
            if to == settings.nodeId { await answered(id) }
        }
    }

    /// Applies the commands addressed to this node: each session's in the order they were
    /// sent, different sessions' side by side.
    private func commandLoop(_ manager: SessionManager) async {
        for await _ in commandWakes {
            let commands: [ClusterCommand]
            do {
                commands = try await backplane.take(for: settings.nodeId)
            } catch {
                logger.warning("could not take cluster commands", metadata: ["error": "\(error)"])
                continue
            }
            guard !commands.isEmpty else { continue }
            var bySession: [String: [ClusterCommand]] = [:]
            for command in commands { bySession[command.sessionId, default: []].append(command) }
            let backplane = self.backplane, logger = self.logger
            await withTaskGroup(of: Void.self) { group in
                for (_, list) in bySession {
                    group.addTask {
                        for command in list {
                            let result = await manager.applyClusterCommand(command)
                            do {
                                try await backplane.answer(command, with: result)
                            } catch {
                                logger.warning("could not answer a cluster command", metadata: ["command": "\(command.id)", "error": "\(error)"])
                            }
                        }
                    }
                }
            }
        }
    }

    private func heartbeatLoop(_ manager: SessionManager) async {
        while !Task.isCancelled {
            await beat(manager)
            do { try await Task.sleep(for: heartbeatInterval) } catch { return }
        }
    }

    /// Renews the leases; stops the sessions whose lease another node took; fences every
    /// session when renewing failed for longer than a lease; takes over sessions whose node
    /// is gone and that this node mirrors or that have queued messages.
    private func beat(_ manager: SessionManager) async {
        let started = ContinuousClock.now
        do {
            let live = await manager.ownedSessionIds()
            let held = try await backplane.renew(nodeId: settings.nodeId, liveSessions: live.count, leaseSeconds: settings.leaseSeconds)
            lastRenewal = started
            heldLeases = held.count
            if problem != nil {
                logger.notice("renewing leases again")
                problem = nil
            }
            let lost = live.subtracting(held)
            if !lost.isEmpty {
                await manager.stopLostSessions(lost, reason: "another node took this session over (this node did not renew its lease in time)")
            }
        } catch {
            let lapsed = lastRenewal.map { started - $0 >= .seconds(settings.leaseSeconds) } ?? true
            if lapsed {
                let reason = "this node could not renew its leases for \(settings.leaseSeconds) s (\(error))"
                if problem == nil { logger.error("fencing: \(reason)") }
                problem = reason
                await manager.stopLostSessions(await manager.ownedSessionIds(), reason: reason)
            } else {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
            }
            return
        }
        await manager.adoptLapsedSessions()
    }
}

/// The answer to a cluster command: `{"ok":true,"result":…}` or
/// `{"ok":false,"code":"…","message":"…"}`.
enum ClusterReply {
    static func success(_ result: JSONValue = .null) -> JSONValue {
        .object(["ok": .bool(true), "result": result])
    }

    static func failure(_ error: any Error) -> JSONValue {
        let code: String
        switch error {
        case let e as SessionError: code = e.code.name
        default: code = "failed"
        }
        return .object(["ok": .bool(false), "code": .string(code), "message": .string(SessionManager.describe(error))])
    }

    static func unwrap(_ answer: JSONValue) throws -> JSONValue {
        guard let object = answer.objectValue else { throw SessionError(.ownerUnreachable, "The owner's answer was unreadable.") }
        if object["ok"]?.boolValue == true { return object["result"] ?? .null }
        throw SessionError(ErrorCode(object["code"]?.stringValue ?? "failed"), object["message"]?.stringValue ?? "The owner refused the request.")
    }
}

extension ErrorCode where Domain == SessionErrorDomain {
    /// The node that runs a session did not take or answer a request in time.
    public static var ownerUnreachable: Self { Self("ownerUnreachable") }
    /// Another node took the session over.
    public static var movedToAnotherNode: Self { Self("movedToAnotherNode") }
}
