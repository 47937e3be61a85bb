#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ISO-8601 timestamps with milliseconds, in UTC, as chat messages carry them.
public enum Timestamp {
    /// The current time, e.g. `2026-11-25T09:33:26.123Z`.
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec / 1_000_000))
    }

    /// The first and last second that four year digits can show (years 0000 and 9999).
    static let secondsRange = -62_167_219_200...253_402_300_799

    /// Formats seconds since 1970 plus milliseconds (any number of them: they carry into
    /// the seconds). A time before year 0 or after 9999 shows as the first or last
    /// millisecond those years have, so stored values of any size format safely.
    ///
    /// Every frame carries a timestamp, so this writes the 24 bytes straight into the
    /// string: no `gmtime_r`, no buffers in between (the civil date comes from the day
    /// count, by Howard Hinnant's `civil_from_days`).
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var (carry, millis) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if millis < 0 { millis += 1000; carry -= 1 }
        var (total, overflow) = seconds.addingReportingOverflow(carry)
        if overflow { total = carry < 0 ? Int.min : Int.max }
        if total < secondsRange.lowerBound {
            (total, millis) = (secondsRange.lowerBound, 0)
        } else if total > secondsRange.upperBound {
            (total, millis) = (secondsRange.upperBound, 999)
        }
        // Within the range nothing below can overflow.
        var (days, second) = total.quotientAndRemainder(dividingBy: 86_400)
        if second < 0 { second += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 24) { out in
            var at = 0
            func put(_ value: Int, width: Int) {
                var v = value
                for i in stride(from: at + width - 1, through: at, by: -1) {
                    out[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                }
                at += width
            }
            func put(_ ascii: Unicode.Scalar) {
                out[at] = UInt8(ascii: ascii)
                at += 1
            }
            put(year, width: 4); put("-"); put(month, width: 2); put("-"); put(day, width: 2); put("T")
            put(second / 3600, width: 2); put(":"); put(second / 60 % 60, width: 2); put(":")
            put(second % 60, width: 2); put("."); put(millis, width: 3); put("Z")
            return at
        }
    }

    /// Milliseconds since 1970, now.
    public static func epochMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec / 1_000_000)
    }
}
