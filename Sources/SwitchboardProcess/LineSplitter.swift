/// One line of a child's output, as ``LineSplitter`` delivers it.
public enum ProcessLine {
    /// A complete line, without its `\n` (and without a `\r` before it). Valid only during
    /// the callback: copy what you keep.
    case text(UnsafeBufferPointer<UInt8>)
    /// A line longer than the splitter's limit was dropped whole; `bytes` is how long it was
    /// (at least `limit + 1`).
    case tooLong(bytes: Int, limit: Int)

    /// The line's text, or `nil` for a dropped line.
    public var bytes: UnsafeBufferPointer<UInt8>? {
        if case .text(let bytes) = self { return bytes }
        return nil
    }

    /// The line as a `String` (invalid UTF-8 repaired), or `nil` for a dropped line.
    public var string: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Splits a byte stream into lines at `\n` (a trailing `\r` is dropped), however the bytes
/// were chunked. Only `\n` ends a line: JSON text may legally contain U+2028 and friends.
///
/// A line longer than ``maxLineLength`` is dropped whole and reported as
/// ``ProcessLine/tooLong(bytes:limit:)`` when it ends, so one runaway line cannot take
/// unbounded memory and the reader still learns that something was lost.
public struct LineSplitter: Sendable {
    /// The longest line kept, in bytes.
    public let maxLineLength: Int
    /// Lines dropped for being too long.
    public private(set) var droppedLineCount = 0
    private var pending: [UInt8] = []
    /// The length of the line being dropped, while one is.
    private var discarded: Int?

    /// A splitter that keeps lines of up to `maxLineLength` bytes (64 MiB by default).
    public init(maxLineLength: Int = 64 * 1024 * 1024) {
        self.maxLineLength = max(1, maxLineLength)
    }

    /// Feeds a chunk; calls `line` for every line it completes, in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, line: (ProcessLine) -> Void) {
        let bytes = chunk.bindMemory(to: UInt8.self)
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                append(UnsafeBufferPointer(rebasing: bytes[start...]))
                return
            }
            let piece = UnsafeBufferPointer(rebasing: bytes[start..<newline])
            if pending.isEmpty && discarded == nil {
                if piece.count > maxLineLength {
                    drop(piece.count, line)
                } else {
                    emit(piece, line)
                }
            } else {
                append(piece)
                if let length = discarded {
                    drop(length, line)
                } else {
                    pending.withUnsafeBufferPointer { emit($0, line) }
                }
                pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
                discarded = nil
            }
            start = newline + 1
        }
    }

    /// Ends the stream: a last line without a newline is delivered.
    public mutating func finish(line: (ProcessLine) -> Void) {
        if let length = discarded {
            drop(length, line)
        } else if !pending.isEmpty {
            pending.withUnsafeBufferPointer { emit($0, line) }
        }
        pending = []
        discarded = nil
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let length = discarded {
            discarded = length + bytes.count
            return
        }
        if pending.count + bytes.count > maxLineLength {
            discarded = pending.count + bytes.count
            pending = []
            return
        }
        pending.append(contentsOf: bytes)
    }

    private mutating func drop(_ length: Int, _ line: (ProcessLine) -> Void) {
        droppedLineCount += 1
        line(.tooLong(bytes: length, limit: maxLineLength))
    }

    private func emit(_ bytes: UnsafeBufferPointer<UInt8>, _ line: (ProcessLine) -> Void) {
        if let last = bytes.last, last == 0x0D {
            line(.text(UnsafeBufferPointer(rebasing: bytes.dropLast())))
        } else {
            line(.text(bytes))
        }
    }
}
