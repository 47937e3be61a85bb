/// Splits a byte stream into lines at `\n` (a trailing `\r` is dropped), however the bytes
/// were chunked. Only `\n` ends a line: JSON text may legally contain U+2028 and friends.
///
/// A line longer than ``maxLineLength`` is dropped whole and counted in ``droppedLineCount``,
/// so one runaway line cannot take unbounded memory.
struct LineSplitter: Sendable {
    /// The longest line kept, in bytes.
    let maxLineLength: Int
    /// Lines dropped for being too long.
    private(set) var droppedLineCount = 0
    private var pending: [UInt8] = []
    private var discarding = false

    init(maxLineLength: Int = 64 * 1024 * 1024) {
        self.maxLineLength = maxLineLength
    }

    /// Feeds a chunk; calls `line` for every line it completes, in order.
    mutating func feed(_ chunk: UnsafeRawBufferPointer, line: (UnsafeBufferPointer<UInt8>) -> Void) {
        let bytes = chunk.bindMemory(to: UInt8.self)
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                append(UnsafeBufferPointer(rebasing: bytes[start...]))
                return
            }
            if pending.isEmpty && !discarding {
                if newline - start > maxLineLength {
                    droppedLineCount += 1
                } else {
                    emit(UnsafeBufferPointer(rebasing: bytes[start..<newline]), line)
                }
            } else {
                append(UnsafeBufferPointer(rebasing: bytes[start..<newline]))
                if !discarding { pending.withUnsafeBufferPointer { emit($0, line) } }
                pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
                discarding = false
            }
            start = newline + 1
        }
    }

    /// Ends the stream: a last line without a newline is delivered.
    mutating func finish(line: (UnsafeBufferPointer<UInt8>) -> Void) {
        if !pending.isEmpty && !discarding { pending.withUnsafeBufferPointer { emit($0, line) } }
        pending = []
        discarding = false
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !discarding else { return }
        if pending.count + bytes.count > maxLineLength {
            discarding = true
            droppedLineCount += 1
            pending = []
            return
        }
        pending.append(contentsOf: bytes)
    }

    private func emit(_ bytes: UnsafeBufferPointer<UInt8>, _ line: (UnsafeBufferPointer<UInt8>) -> Void) {
        if let last = bytes.last, last == 0x0D {
            line(UnsafeBufferPointer(rebasing: bytes.dropLast()))
        } else {
            line(bytes)
        }
    }
}
