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

    /// Formats seconds since 1970 plus milliseconds.
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func put(_ value: Int, width: Int) {
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            out.append(contentsOf: digits)
        }
        put(Int(parts.tm_year) + 1900, width: 4); out.append(UInt8(ascii: "-"))
        put(Int(parts.tm_mon) + 1, width: 2); out.append(UInt8(ascii: "-"))
        put(Int(parts.tm_mday), width: 2); out.append(UInt8(ascii: "T"))
        put(Int(parts.tm_hour), width: 2); out.append(UInt8(ascii: ":"))
        put(Int(parts.tm_min), width: 2); out.append(UInt8(ascii: ":"))
        put(Int(parts.tm_sec), width: 2); out.append(UInt8(ascii: "."))
        put(milliseconds, width: 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Milliseconds since 1970, now.
    public static func epochMilliseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec) * 1000 + Int(ts.tv_nsec / 1_000_000)
    }
}
