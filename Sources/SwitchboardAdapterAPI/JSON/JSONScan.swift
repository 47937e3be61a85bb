/// Finds the bytes that matter inside a JSON string — `"`, `\` and control characters —
/// eight bytes at a time. Chat messages are mostly long runs of ordinary text, so this
/// loop is most of the codec's cost.
enum JSONScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The index of the first byte at or after `start` that is `"`, `\` or below 0x20;
    /// `count` when there is none.
    @inline(__always)
    static func firstSpecial(_ base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        var i = start
        let raw = UnsafeRawPointer(base)
        while i + 8 <= count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let quote = w ^ (ones &* 0x22)
            let slash = w ^ (ones &* 0x5C)
            // A byte is flagged when it is zero after the XOR, or below 0x20 to begin with.
            let special = ((quote &- ones) & ~quote)
                | ((slash &- ones) & ~slash)
                | ((w &- ones &* 0x20) & ~w)
            let flagged = special & highs
            if flagged != 0 {
                // The lowest flag is exact (borrows only run upwards); on a little-endian
                // machine it is the first special byte.
                #if _endian(little)
                return i + flagged.trailingZeroBitCount >> 3
                #else
                break
                #endif
            }
            i += 8
        }
        while i < count {
            let b = base[i]
            if b == 0x22 || b == 0x5C || b < 0x20 { return i }
            i += 1
        }
        return count
    }
}
