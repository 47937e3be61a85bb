import Logging
import SwitchboardAdapterAPI

extension SessionManager {
    // MARK: - The live-session cap

    /// Counts a session about to be created against ``Configuration/maxLiveSessions``; the
    /// caller gives the slot back (`reservedStarts -= 1`) when the creation ends, made or not.
    /// - Throws: ``SessionError`` with code ``ErrorCode/liveSessionLimit`` when the live
    ///   sessions and those being created already reach the limit.
    func reserveLiveSlot() throws {
        if let limit = configuration.maxLiveSessions, ownedCount + reservedStarts >= limit {
            logger.warning("session refused: live-session limit reached", metadata: ["limit": "\(limit)"])
            throw SessionError.liveSessionLimit(limit)
        }
        reservedStarts += 1
    }

    /// The live sessions whose agent runs here (mirrors do not count against the cap).
    var ownedCount: Int {
        cluster == nil ? sessions.count : sessions.values.lazy.filter { $0.owner == nil }.count
    }

    // MARK: - Idle expiry

    /// Whether a live session is idle: no client attached and no turn running.
    private func isIdle(_ session: Session) -> Bool {
        session.clients.isEmpty && session.info.status != .running && !session.disposed
    }

    /// Since when the session has been idle (epoch ms): its last activity or the moment its
    /// last client left, whichever is later.
    private func idleSince(_ session: Session) -> Int64 {
        max(session.info.lastActivity, session.lastClientLeft)
    }

    /// Disposes every live session that has been idle — no client attached, no turn running —
    /// for at least ``Configuration/sessionIdleTimeout``, as of `now`. The stored records stay,
    /// so ``find(_:projectPath:)`` restores such a session when it is needed again.
    /// - Parameter now: the time to judge by, in milliseconds since 1970 (the current time by
    ///   default; tests pass a later one instead of waiting).
    /// - Returns: the ids of the sessions disposed.
    @discardableResult
    public func expireIdleSessions(now: Int64 = Int64(Timestamp.epochMilliseconds())) async -> [String] {
        guard let timeout = configuration.sessionIdleTimeout else { return [] }
        let limit = Self.milliseconds(timeout)
        let expired = sessions.values
            .filter { isIdle($0) && Self.elapsed(from: idleSince($0), to: now, atLeast: limit) }
            .map(\.info.id)
            .sorted()
        for id in expired {
            // Disposing suspends: a client may have attached or a turn started meanwhile.
            guard let session = sessions[id], isIdle(session) else { continue }
            logger.info("session expired", metadata: ["session": "\(id)", "idleSince": "\(idleSince(session))"])
            await dispose(id)
        }
        return expired.filter { sessions[$0] == nil }
    }

    /// Runs ``expireIdleSessions(now:)`` periodically — every quarter of the idle timeout, at
    /// least every minute and at most every 10 ms — until the calling task is cancelled.
    /// Returns at once when ``Configuration/sessionIdleTimeout`` is `nil`.
    public func runIdleExpiry() async {
        guard let timeout = configuration.sessionIdleTimeout else { return }
        let interval = min(max(timeout / 4, .milliseconds(10)), .seconds(60))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            await expireIdleSessions()
        }
    }

    /// Whether at least `limit` ms lie between `start` and `end`, without overflowing.
    static func elapsed(from start: Int64, to end: Int64, atLeast limit: Int64) -> Bool {
        let (difference, overflow) = end.subtractingReportingOverflow(start)
        return overflow ? end > start : difference >= limit
    }
}

extension ErrorCode where Domain == SessionErrorDomain {
    /// As many sessions are live as ``SessionManager/Configuration/maxLiveSessions`` allows.
    public static var liveSessionLimit: Self { Self("liveSessionLimit") }
}

extension SwitchboardError where Domain == SessionErrorDomain {
    /// The live-session limit is reached.
    static func liveSessionLimit(_ limit: Int) -> SessionError {
        SessionError(
            .liveSessionLimit,
            "This server already runs \(limit) live session\(limit == 1 ? "" : "s"), the most it allows (maxLiveSessions). Delete a session or let an idle one expire, then try again."
        )
    }
}
