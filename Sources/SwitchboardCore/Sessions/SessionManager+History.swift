import Logging
import SwitchboardAdapterAPI

extension SessionManager {
    /// Continues a restored session where its event log ends: the numbering after the last
    /// logged `seq`, the log's newest frames in the ring, and the stored queue. A log that
    /// cannot be read is reported (the session still starts, numbering after what it has).
    func restoreHistory(of session: Session) async {
        let id = session.info.id
        do {
            if let bounds = try await store.frameBounds(id) {
                let keep = max(1, configuration.messageBufferSize)
                let after = max(bounds.lowerBound - 1, bounds.upperBound - keep)
                var tail: [SessionFrame] = []
                for logged in try await store.frames(id, after: after, limit: keep) {
                    // A row that cannot be read is left out of the ring; replays skip it too.
                    if let frame = try? SessionFrame(logged: logged) { tail.append(frame) }
                }
                session.buffer.restore(lastSeq: bounds.upperBound, tail: tail)
            }
        } catch {
            logger.error("event log unreadable", metadata: ["session": "\(id)", "error": "\(Self.describe(error))"])
        }
        do {
            session.queue = try await store.queuedMessages(id)
            session.info.queuedMessages = session.queue.count
        } catch {
            logger.error("message queue unreadable", metadata: ["session": "\(id)", "error": "\(Self.describe(error))"])
        }
    }

    /// Up to `limit` frames of a session's history after `seq`, in order — live or only
    /// stored, without restoring it. Frames still on their way to the log are not included.
    /// - Throws: ``SessionError`` `notFound` for a session neither live nor stored.
    public func history(_ sessionId: String, after seq: Int, limit: Int) async throws -> [LoggedFrame] {
        if sessions[sessionId] == nil, try await store.get(sessionId) == nil { throw SessionError.notFound(sessionId) }
        return try await store.frames(sessionId, after: seq, limit: limit)
    }

    /// Removes what the history's retention no longer keeps: for one session, or for every
    /// session whose log has frames older than `maxAgeDays`. Runs on the store, off the
    /// sessions' way; a failure is logged.
    /// - Returns: how many frames went.
    @discardableResult
    public func pruneHistory(_ sessionId: String? = nil, now: Int64 = Int64(Timestamp.epochMilliseconds())) async -> Int {
        let retention = configuration.history
        var ids: [String]
        if let sessionId {
            ids = [sessionId]
        } else {
            ids = Array(sessions.keys)
            if let days = retention.maxAgeDays {
                let cutoff = now.subtractingReportingOverflow(Int64(days).multipliedReportingOverflow(by: 86_400_000).partialValue).partialValue
                ids += (try? await store.sessionsWithFrames(before: cutoff)) ?? []
            }
        }
        var removed = 0
        for id in Set(ids).sorted() {
            do {
                removed += try await store.pruneFrames(id, retention: retention, now: now)
            } catch {
                logger.warning("history pruning failed", metadata: ["session": "\(id)", "error": "\(Self.describe(error))"])
            }
        }
        return removed
    }

    /// Prunes every session's history every `interval` until the calling task is cancelled.
    public func runHistoryPruning(every interval: Duration = .seconds(60)) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await pruneHistory()
        }
    }
}
