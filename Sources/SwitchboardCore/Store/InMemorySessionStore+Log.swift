/// The in-memory store's event log, queue and client message ids: the same rules as the
/// SQLite store, kept in memory.
extension InMemorySessionStore {
    public func appendFrames(_ frames: [LoggedFrame]) {
        for frame in frames {
            // In place (the dictionary's modify accessor): copying the log out and back would
            // make each append cost the whole log.
            Self.append(frame, to: &logs[frame.sessionId, default: SessionLog()])
        }
    }

    private static func append(_ frame: LoggedFrame, to log: inout SessionLog) {
        if let last = log.frames.last?.seq, frame.seq <= last {
            // Out of order or already there: keep the log sorted, never doubled.
            if !log.frames.contains(where: { $0.seq == frame.seq }) {
                log.frames.append(frame)
                log.frames.sort { $0.seq < $1.seq }
            }
        } else {
            log.frames.append(frame)
        }
    }

    public func frames(_ sessionId: String, after seq: Int, limit: Int) -> [LoggedFrame] {
        guard let log = logs[sessionId], limit > 0 else { return [] }
        let start = log.frames.partitioningIndex { $0.seq > seq }
        return Array(log.frames[start...].prefix(limit))
    }

    public func frameBounds(_ sessionId: String) -> ClosedRange<Int>? {
        guard let log = logs[sessionId], let first = log.frames.first?.seq, let last = log.frames.last?.seq else { return nil }
        return first...last
    }

    public func pruneFrames(_ sessionId: String, retention: HistoryRetention, now: Int64) -> Int {
        guard var log = logs[sessionId], log.frames.count > 1 else { return 0 }
        let before = log.frames.count
        if log.frames.count > retention.maxFramesPerSession {
            log.frames.removeFirst(log.frames.count - max(1, retention.maxFramesPerSession))
        }
        var bytes = log.frames.reduce(0) { $0 + $1.byteCount }
        while log.frames.count > 1, bytes > retention.maxBytesPerSession {
            bytes -= log.frames.removeFirst().byteCount
        }
        if let days = retention.maxAgeDays {
            let cutoff = now - Int64(days) * 86_400_000
            while log.frames.count > 1, let first = log.frames.first, first.createdAt < cutoff { log.frames.removeFirst() }
        }
        logs[sessionId] = log
        return before - log.frames.count
    }

    public func sessionsWithFrames(before time: Int64) -> [String] {
        logs.filter { $0.value.frames.first.map { $0.createdAt < time } ?? false }.keys.sorted()
    }

    public func enqueueMessage(_ message: QueuedMessage) {
        queue.append(message)
    }

    public func removeQueuedMessage(_ sessionId: String, queueId: String) -> Bool {
        guard let index = queue.firstIndex(where: { $0.sessionId == sessionId && $0.queueId == queueId }) else { return false }
        queue.remove(at: index)
        return true
    }

    public func queuedMessages(_ sessionId: String?) -> [QueuedMessage] {
        queue.filter { sessionId == nil || $0.sessionId == sessionId }
    }

    /// Records or updates the record; an update keeps a `seq` or queue id it does not give
    /// (as the SQLite store does).
    public func recordClientMessage(_ record: ClientMessageRecord) {
        let key = "\(record.sessionId)\u{0}\(record.clientMessageId)"
        var merged = record
        if let existing = clientMessages[key] {
            merged.seq = record.seq ?? existing.seq
            merged.queueId = record.queueId ?? existing.queueId
        }
        clientMessages[key] = merged
    }

    public func clientMessage(_ sessionId: String, _ clientMessageId: String) -> ClientMessageRecord? {
        clientMessages["\(sessionId)\u{0}\(clientMessageId)"]
    }

    /// Forgets a session's log, queue and client message ids.
    func forgetHistory(of id: String) {
        logs[id] = nil
        queue.removeAll { $0.sessionId == id }
        clientMessages = clientMessages.filter { $0.value.sessionId != id }
    }
}

/// One session's frames, in `seq` order.
struct SessionLog: Sendable {
    var frames: [LoggedFrame] = []
}

extension Array {
    /// The first index whose element satisfies `belongs` (which must be false, then true).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
