import Logging
import NIOCore
import Synchronization

/// Counts the daemon's open connections and decides, for each new one, whether it is served.
///
/// Below ``limit`` every connection is admitted. At the limit a new connection takes the place
/// of the one that has waited longest without a request in progress — one that has not sent a
/// complete request head yet, else an idle keep-alive connection — which is closed; when every
/// connection is busy (a request in progress, a WebSocket) the new one is refused with `503`.
/// So idle or slow connections, however many, never keep a real request out.
///
/// Shared by every connection's ``ConnectionGuardHandler``, on any event loop.
final class ConnectionGuard: Sendable {
    /// Where a connection is in its life, for choosing which one gives way.
    enum Phase: Sendable {
        /// Connected, no complete request head yet.
        case awaitingHead
        /// A request is being read or answered, or the connection is a WebSocket.
        case busy
        /// A keep-alive connection between requests.
        case idle
    }

    /// What ``admit(_:)`` decided.
    enum Admission: Sendable, Equatable {
        /// Served; the ticket identifies the connection in later calls.
        case admitted(UInt64)
        /// Refused: every connection is busy.
        case refused
    }

    private struct Entry {
        let channel: any Channel
        var phase: Phase
        /// When the connection entered its phase (a counter, not a clock).
        var since: UInt64
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextTicket: UInt64 = 1
        var tick: UInt64 = 0
        var evicted = 0
        var refused = 0
    }

    /// The most connections open at once.
    let limit: Int
    let logger: Logger
    private let state = Mutex(State())

    init(limit: Int, logger: Logger) {
        self.limit = max(1, limit)
        self.logger = logger
    }

    /// How many admitted connections are open.
    var openCount: Int { state.withLock { $0.entries.count } }

    /// How many connections were closed to make room, and how many were refused, so far.
    var counts: (evicted: Int, refused: Int) { state.withLock { ($0.evicted, $0.refused) } }

    /// Admits a new connection, closing the longest-waiting idle one to make room if needed.
    func admit(_ channel: any Channel) -> Admission {
        let (admission, victim) = state.withLock { s -> (Admission, (any Channel)?) in
            var victim: (any Channel)?
            if s.entries.count >= limit {
                guard let (ticket, entry) = Self.longestWaiting(in: s.entries) else {
                    s.refused += 1
                    return (.refused, nil)
                }
                s.entries.removeValue(forKey: ticket)
                s.evicted += 1
                victim = entry.channel
            }
            let ticket = s.nextTicket
            s.nextTicket += 1
            s.tick += 1
            s.entries[ticket] = Entry(channel: channel, phase: .awaitingHead, since: s.tick)
            return (.admitted(ticket), victim)
        }
        if let victim {
            logger.debug("connection limit reached: closing the connection that waited longest", metadata: ["limit": "\(limit)"])
            Self.closeQuietly(victim)
        }
        return admission
    }

    /// Records a connection's new phase.
    func enter(_ phase: Phase, ticket: UInt64) {
        state.withLock { s in
            guard s.entries[ticket] != nil else { return }
            s.tick += 1
            s.entries[ticket]?.phase = phase
            s.entries[ticket]?.since = s.tick
        }
    }

    /// Forgets a closed connection; a ticket already forgotten is ignored.
    func release(_ ticket: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: ticket) }
    }

    /// Closes the connection that has waited longest without a request in progress, to free a
    /// descriptor when accepting failed for lack of them; returns whether there was one.
    func evictOne() -> Bool {
        let victim = state.withLock { s -> (any Channel)? in
            guard let (ticket, entry) = Self.longestWaiting(in: s.entries) else { return nil }
            s.entries.removeValue(forKey: ticket)
            s.evicted += 1
            return entry.channel
        }
        guard let victim else { return false }
        Self.closeQuietly(victim)
        return true
    }

    /// The connection without a head that waited longest, else the longest-idle keep-alive one.
    private static func longestWaiting(in entries: [UInt64: Entry]) -> (UInt64, Entry)? {
        var best: (UInt64, Entry)?
        for (ticket, entry) in entries where entry.phase != .busy {
            guard let current = best?.1 else { best = (ticket, entry); continue }
            let better = (entry.phase == .awaitingHead && current.phase == .idle)
                || (entry.phase == current.phase && entry.since < current.since)
            if better { best = (ticket, entry) }
        }
        return best
    }

    /// Closes the input side first: the HTTP layer then ends the connection as if the peer had
    /// gone, without logging an error for a connection that never sent a request.
    static func closeQuietly(_ channel: any Channel) {
        // Fails when the input is closed already: then close it all.
        channel.close(mode: .input).whenFailure { _ in channel.close(promise: nil) }
    }
}
