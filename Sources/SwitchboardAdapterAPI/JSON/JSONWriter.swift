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
        append(count: JSONText.intLength(int)) { JSONText.writeInt(int, into: $0, at: $1) }
    }

    /// Appends `value` as a quoted, escaped JSON string (escaped as ``JSONText`` does it).
    package mutating func appendString(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            append(count: JSONText.quotedLength(utf8)) { JSONText.writeQuoted(utf8, into: $0, at: $1) }
        }
    }

    /// Grows the buffer by `count` bytes and lets `write` fill them (its arguments: the buffer
    /// and where the new bytes start).
    private mutating func append(count: Int, _ write: (UnsafeMutableBufferPointer<UInt8>, Int) -> Int) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBufferPointer { _ = write($0, start) }
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
