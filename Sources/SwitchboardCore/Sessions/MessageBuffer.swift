import SwitchboardAdapterAPI

/// A session's recent frames: a ring bounded both in count and in bytes, so one huge tool
/// output cannot blow up memory. The newest frame is always kept.
struct MessageBuffer {
    private var frames: [SessionFrame] = []
    private var sizes: [Int] = []
    private var head = 0
    private(set) var byteCount = 0
    private(set) var nextSeq = 0
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = max(1, maxCount)
        self.maxBytes = max(1, maxBytes)
    }

    /// How many frames are kept.
    var count: Int { frames.count - head }

    /// The sequence number of the oldest frame kept, or `nextSeq` when empty.
    var oldestSeq: Int { count > 0 ? frames[head].seq! : nextSeq }

    /// Stamps `message` with the next sequence number, keeps it, and returns the frame.
    mutating func append(_ message: ChatMessage) -> SessionFrame {
        keep(SessionFrame(seq: nextSeq, message: message), size: Self.size(of: message))
    }

    /// Stamps `notice` with the next sequence number, keeps it, and returns the frame.
    mutating func append(_ notice: SessionNotice) -> SessionFrame {
        keep(SessionFrame(seq: nextSeq, notice: notice), size: 160)
    }

    /// Stamps a decision frame with the next sequence number, keeps it, and returns it.
    mutating func append(_ decision: DecisionFrame) -> SessionFrame {
        var size = 512
        if case .requested(let pending) = decision {
            size += pending.request.summary.utf8.count + pending.request.input.jsonText.utf8.count
        }
        return keep(SessionFrame(seq: nextSeq, decision: decision), size: size)
    }

    private mutating func keep(_ frame: SessionFrame, size: Int) -> SessionFrame {
        nextSeq += 1
        frames.append(frame)
        sizes.append(size)
        byteCount += size
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
        return frame
    }

    /// The frames after `seq` (all when `nil`), and whether some the caller asked for were
    /// already dropped.
    func frames(after seq: Int?) -> (frames: ArraySlice<SessionFrame>, dropped: Bool) {
        guard let seq else { return (frames[head...], false) }
        // `seq` comes from outside (a query or a frame): compare before adding, so no value
        // can overflow. At or beyond the newest seq there is nothing to give.
        if seq >= nextSeq - 1 { return (frames[frames.endIndex...], false) }
        if seq < oldestSeq - 1 { return (frames[head...], true) }
        return (frames[(head + (seq + 1 - oldestSeq))...], false)
    }

    /// An estimate of the memory a message holds.
    static func size(of message: ChatMessage) -> Int {
        96 + message.content.utf8.count + message.timestamp.utf8.count
            + (message.messageId?.utf8.count ?? 0) + (message.toolName?.utf8.count ?? 0) + (message.toolId?.utf8.count ?? 0)
            + (message.extra.isEmpty ? 0 : 64 * message.extra.count)
    }
}
