/// Appends JSON text to a byte buffer.
///
/// The callers write structure themselves (`appendRaw("{\"type\":")`), which is what keeps
/// the event path fast; strings are escaped per RFC 8259.
package struct JSONWriter: Sendable {
    /// The UTF-8 bytes written so far.
    package var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends literal JSON text.

    package mutating func appendRaw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte of literal JSON.

    package mutating func appendByte(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends an integer.
    package mutating func appendInt<T: BinaryInteger>(_ value: T) {
        // Sequence numbers and counts are Ints: their digits go straight into the buffer.
        guard let int = Int(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        if int < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = int.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// Appends `value` as a quoted, escaped JSON string.
    package mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var copy = value
        copy.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let base = utf8.baseAddress else { return }
        let count = utf8.count
        var runStart = 0
        var i = 0
        while i < count {
            // Only '"', '\\' and control characters need escaping.
            i = JSONScan.firstSpecial(base, from: i, count: count)
            guard i < count else { break }
            let b = base[i]
            if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart)) }
            i += 1
            runStart = i
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
            default:
                appendRaw("\\u00")
                let hex: StaticString = "0123456789abcdef"
                hex.withUTF8Buffer { h in
                    bytes.append(h[Int(b >> 4)])
                    bytes.append(h[Int(b & 0xF)])
                }
            }
        }
        if runStart < count { bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart)) }
    }

    /// Appends any JSON value, compactly, object keys sorted.
    package mutating func write(_ value: JSONValue) {
        switch value {
        case .null: appendRaw("null")
        case .bool(let b): b ? appendRaw("true") : appendRaw("false")
        case .number(let n): bytes.append(contentsOf: n.utf8)
        case .string(let s): appendString(s)
        case .array(let elements):
            appendByte(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { appendByte(UInt8(ascii: ",")) }
                write(e)
            }
            appendByte(UInt8(ascii: "]"))
        case .object(let members):
            appendByte(UInt8(ascii: "{"))
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { appendByte(UInt8(ascii: ",")) }
                appendString(key)
                appendByte(UInt8(ascii: ":"))
                write(members[key]!)
            }
            appendByte(UInt8(ascii: "}"))
        }
    }

    /// Appends any JSON value with two-space indentation.
    package mutating func writePretty(_ value: JSONValue, indent: Int) {
        func newline(_ level: Int) {
            appendByte(0x0A)
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch value {
        case .array(let elements) where !elements.isEmpty:
            appendByte(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { appendByte(UInt8(ascii: ",")) }
                newline(indent + 1)
                writePretty(e, indent: indent + 1)
            }
            newline(indent)
            appendByte(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            appendByte(UInt8(ascii: "{"))
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { appendByte(UInt8(ascii: ",")) }
                newline(indent + 1)
                appendString(key)
                appendRaw(": ")
                writePretty(members[key]!, indent: indent + 1)
            }
            newline(indent)
            appendByte(UInt8(ascii: "}"))
        default:
            write(value)
        }
    }
}
