#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, allocation-lean JSON reader over UTF-8 bytes.
///
/// The event path between a plugin and the host decodes with this instead of
/// `JSONDecoder`: it reads the fields it knows straight into Swift values, which keeps one
/// event crossing well under the cost of a Codable round trip. It is strict: control
/// characters inside strings, trailing commas, leading zeros and trailing garbage are errors.
package struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    /// A reader at the start of `bytes`. The bytes must outlive the reader.
    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    // MARK: - Primitives


    mutating func skipWhitespace() {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var i = index
        while i < count {
            switch base[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: index = i; return
            }
        }
        index = i
    }

    /// The next significant byte, without consuming it.

    package mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    func error(_ reason: String) -> JSONError {
        JSONError(offset: index, reason: reason)
    }


    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: StaticString) throws(JSONError) {
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw error(index < bytes.count ? "expected \(what)" : "unexpected end of input, expected \(what)")
        }
        index += 1
    }

    /// Fails unless only whitespace is left.
    package mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if index != bytes.count { throw error("unexpected trailing characters") }
    }

    /// Consumes `null` if it comes next.
    package mutating func consumeNull() throws(JSONError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input in literal") }
        let ok = word.withUTF8Buffer { w in
            for k in 0..<count where bytes[index + k] != w[k] { return false }
            return true
        }
        guard ok else { throw error("invalid literal") }
        index += count
    }

    // MARK: - Structure

    /// Reads an object, calling `body` with each key; `body` must consume the value.
    package mutating func readObject(_ body: (inout JSONReader, String) throws(JSONError) -> Void) throws(JSONError) {
        try readObjectKeys { (r: inout JSONReader, key: JSONKey) throws(JSONError) in try body(&r, key.string) }
    }

    /// Reads an object, calling `body` with each key as raw bytes (no `String` is made
    /// unless asked for); `body` must consume the value. Match keys with `case "name":`.
    package mutating func readObjectKeys(_ body: (inout JSONReader, JSONKey) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "{"), "'{'")
        if peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            switch peek() {
            case UInt8(ascii: "\""): break
            case nil: throw error("unexpected end of input in object")
            default: throw error("expected a string key")
            }
            let key = try readKey()
            try expect(UInt8(ascii: ":"), "':'")
            try body(&self, key)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in object") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// Reads an array, calling `body` once per element; `body` must consume the element.
    package mutating func readArray(_ body: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "["), "'['")
        if peek() == UInt8(ascii: "]") { index += 1; return }
        while true {
            try body(&self)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in array") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return
            default: throw error("expected ',' or ']'")
            }
        }
    }

    // MARK: - Values

    /// Reads a string value.
    package mutating func readString() throws(JSONError) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = index
        switch scanString() {
        case .closed(let end):
            index = end + 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        case .escaped(let at):
            index = at
            return try readEscapedString(from: start)
        case .invalid(let at, let reason):
            index = at
            throw error(reason)
        }
    }

    private enum StringScan {
        case closed(Int)
        case escaped(Int)
        case invalid(Int, String)
    }

    /// Scans from `index` (just after the opening quote) to the closing quote or the first
    /// backslash, on a local pointer so the loop stays tight.
    private func scanString() -> StringScan {
        guard let base = bytes.baseAddress else { return .invalid(index, "unterminated string") }
        let count = bytes.count
        let i = JSONScan.firstSpecial(base, from: index, count: count)
        guard i < count else { return .invalid(i, "unterminated string") }
        switch base[i] {
        case 0x22: return .closed(i)
        case 0x5C: return .escaped(i)
        default: return .invalid(i, "control character in string")
        }
    }

    /// Reads a string as raw bytes, without making a `String` when it has no escapes —
    /// for values matched against a fixed set of names.
    package mutating func readName() throws(JSONError) -> JSONKey {
        try readKey()
    }

    /// Reads an object key without making a `String` when it has no escapes.
    mutating func readKey() throws(JSONError) -> JSONKey {
        try expect(UInt8(ascii: "\""), "a string key")
        let start = index
        switch scanString() {
        case .closed(let end):
            index = end + 1
            return JSONKey(raw: UnsafeBufferPointer(rebasing: bytes[start..<end]), decoded: nil)
        case .escaped(let at):
            index = at
            return JSONKey(raw: UnsafeBufferPointer(start: nil, count: 0), decoded: try readEscapedString(from: start))
        case .invalid(let at, let reason):
            index = at
            throw error(reason)
        }
    }

    private mutating func readEscapedString(from start: Int) throws(JSONError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(index - start + 16)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        index += 2
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    out.append(contentsOf: UTF8.encode(u)!)
                default:
                    throw error("invalid escape")
                }
            default:
                if b < 0x20 { throw error("control character in string") }
                // Copy the run of ordinary bytes up to the next quote, backslash or control.
                let end = JSONScan.firstSpecial(bytes.baseAddress!, from: index, count: bytes.count)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                index = end
            }
        }
        throw error("unterminated string")
    }

    private mutating func readHex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    /// Reads a number and returns its literal text.
    package mutating func readNumberText() throws(JSONError) -> String {
        skipWhitespace()
        let start = index
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { throw error("expected a number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if digit(index) { throw error("leading zero in number") }
        } else {
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { throw error("expected a digit after '.'") }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { throw error("expected a digit in exponent") }
            while digit(index) { index += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// Reads an unsigned integer.
    package mutating func readUInt64() throws(JSONError) -> UInt64 {
        let text = try readNumberText()
        guard let v = UInt64(text) else { throw error("expected a non-negative integer") }
        return v
    }

    /// Reads a boolean.
    package mutating func readBool() throws(JSONError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw error("expected true or false")
        }
    }

    /// Reads a string, or `nil` for JSON `null`.
    package mutating func readOptionalString() throws(JSONError) -> String? {
        if try consumeNull() { return nil }
        return try readString()
    }

    /// Reads any value.
    package mutating func readValue(depth: Int = 0) throws(JSONError) -> JSONValue {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        switch peek() {
        case UInt8(ascii: "{"):
            var members: [String: JSONValue] = [:]
            try readObject { (r: inout JSONReader, key: String) throws(JSONError) in
                members[key] = try r.readValue(depth: depth + 1)
            }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try readArray { (r: inout JSONReader) throws(JSONError) in
                elements.append(try r.readValue(depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try readBool())
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case nil:
            throw error("unexpected end of input, expected a value")
        case let byte?:
            guard byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw error("expected a value")
            }
            return .number(try readNumberText())
        }
    }

    /// Skips any value.
    package mutating func skipValue() throws(JSONError) {
        _ = try readValue()
    }
}

/// An object key as the reader found it: raw bytes when it had no escapes.
///
/// Compare it with string literals (`key == "type"`, or `case "type":` in a `switch`)
/// without allocating; ``string`` makes a `String` when one is needed.
package struct JSONKey {
    let raw: UnsafeBufferPointer<UInt8>
    let decoded: String?

    /// The key as a `String`.
    package var string: String {
        decoded ?? String(decoding: raw, as: UTF8.self)
    }

    /// Whether the key is exactly `literal`.
    package static func == (key: JSONKey, literal: StaticString) -> Bool {
        if let decoded = key.decoded { return decoded == literal.description }
        let n = literal.utf8CodeUnitCount
        guard key.raw.count == n else { return false }
        if n == 0 { return true }
        return literal.withUTF8Buffer { l in memcmp(l.baseAddress!, key.raw.baseAddress!, n) == 0 }
    }

    /// Lets `switch key { case "type": … }` match without making a `String`.
    package static func ~= (literal: StaticString, key: JSONKey) -> Bool {
        key == literal
    }
}
