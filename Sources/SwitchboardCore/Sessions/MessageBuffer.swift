import SwitchboardAdapterAPI

/// A session's recent frames — the cache of its event log's tail: a ring bounded both in
/// count and in bytes, so one huge tool output cannot blow up memory. The newest frame is
/// always kept. It also numbers the session's frames (``reserveSeq()``); a frame enters the
/// ring once the log has it (``keep(_:)``), in `seq` order.
struct MessageBuffer {
    private var frames: [SessionFrame] = []
    private var sizes: [Int] = []
    private var head = 0
    private(set) var byteCount = 0
    /// The `seq` the next frame gets.
    private(set) var nextSeq = 0
    /// The `seq` of the newest frame kept, or `nextSeq - 1` before any.
    private(set) var newestSeq = -1
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = max(1, maxCount)
        self.maxBytes = max(1, maxBytes)
    }

    /// How many frames are kept.
    var count: Int { frames.count - head }

    /// The sequence number of the oldest frame kept, or `newestSeq + 1` when empty.
    var oldestSeq: Int { count > 0 ? (frames[head].seq ?? newestSeq + 1) : newestSeq + 1 }

    /// The next sequence number (numbers are never reused).
    mutating func reserveSeq() -> Int {
        defer { nextSeq += 1 }
        return nextSeq
    }

    /// Continues a restored session: numbering after `lastSeq`, with `tail` (the log's newest
    /// frames, oldest first) in the ring.
    mutating func restore(lastSeq: Int, tail: [SessionFrame]) {
        nextSeq = lastSeq + 1
        newestSeq = lastSeq
        for frame in tail { keep(frame) }
        newestSeq = lastSeq
    }

    /// Keeps a frame the log has (frames come in `seq` order).
    mutating func keep(_ frame: SessionFrame) {
        frames.append(frame)
        let size = frame.byteEstimate
        sizes.append(size)
        byteCount += size
        if let seq = frame.seq { newestSeq = max(newestSeq, seq) }
        while count > 1 && (count > maxCount || byteCount > maxBytes) {
            byteCount -= sizes[head]
            head += 1
        }
        // Compact once the dropped prefix is as large as what is kept.
        if head > 64 && head * 2 >= frames.count {
            frames.removeFirst(head)
            sizes.removeFirst(head)
            head = 0
        }
    }

    /// The frames kept after `seq` (all when `nil`), and whether the ring lacks some the caller
    /// asked for (older ones: the log may have them).
    func frames(after seq: Int?) -> (frames: ArraySlice<SessionFrame>, missing: Bool) {
        guard let seq else { return (frames[head...], false) }
        // `seq` comes from outside (a query or a frame): compare before adding, so no value
        // can overflow. At or beyond the newest seq there is nothing to give.
        if seq >= newestSeq { return (frames[frames.endIndex...], false) }
        if seq < oldestSeq - 1 { return (frames[head...], true) }
        return (frames[(head + (seq + 1 - oldestSeq))...], false)
    }
}
