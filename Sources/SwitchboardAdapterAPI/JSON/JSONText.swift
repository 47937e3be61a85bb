/// JSON text made in one allocation: the exact length is counted first, then the bytes are
/// written straight into the string's storage, so a short object costs one `malloc` and no
/// intermediate buffer (``JSONWriter`` builds a `[UInt8]` and copies it into a `String`).
///
/// For the few shapes on the hot path (a chat message as clients receive it); everything
/// else uses ``JSONWriter``, whose strings and integers are written by these same functions
/// (strings escaped per RFC 8259).
package enum JSONText {
    /// How many bytes `utf8` takes quoted and escaped.
    @inline(__always)
    static func quotedLength(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = utf8.baseAddress else { return 2 }
        let count = utf8.count
        var length = count + 2
        var i = JSONScan.firstSpecial(base, from: 0, count: count)
        while i < count {
            switch base[i] {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: length += 1
            default: length += 5  // \u00XX
            }
            i = JSONScan.firstSpecial(base, from: i + 1, count: count)
        }
        return length
    }

    /// Writes `utf8` quoted and escaped at `out[at...]`; returns the index after it.
    @inline(__always)
    static func writeQuoted(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var o = start
        out[o] = 0x22
        o += 1
        if let base = utf8.baseAddress, let dest = out.baseAddress {
            let count = utf8.count
            var runStart = 0
            var i = JSONScan.firstSpecial(base, from: 0, count: count)
            while i < count {
                let run = i - runStart
                if run > 0 { (dest + o).update(from: base + runStart, count: run); o += run }
                let b = base[i]
                out[o] = 0x5C
                switch b {
                case 0x22: out[o + 1] = 0x22; o += 2
                case 0x5C: out[o + 1] = 0x5C; o += 2
                case 0x0A: out[o + 1] = UInt8(ascii: "n"); o += 2
                case 0x0D: out[o + 1] = UInt8(ascii: "r"); o += 2
                case 0x09: out[o + 1] = UInt8(ascii: "t"); o += 2
                case 0x08: out[o + 1] = UInt8(ascii: "b"); o += 2
                case 0x0C: out[o + 1] = UInt8(ascii: "f"); o += 2
                default:
                    let hex: StaticString = "0123456789abcdef"
                    hex.withUTF8Buffer { h in
                        out[o + 1] = UInt8(ascii: "u"); out[o + 2] = UInt8(ascii: "0"); out[o + 3] = UInt8(ascii: "0")
                        out[o + 4] = h[Int(b >> 4)]; out[o + 5] = h[Int(b & 0xF)]
                    }
                    o += 6
                }
                runStart = i + 1
                i = JSONScan.firstSpecial(base, from: runStart, count: count)
            }
            let run = count - runStart
            if run > 0 { (dest + o).update(from: base + runStart, count: run); o += run }
        }
        out[o] = 0x22
        return o + 1
    }

    /// Writes literal text at `out[at...]`; returns the index after it.
    @inline(__always)
    static func writeRaw(_ text: StaticString, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        let count = text.utf8CodeUnitCount
        guard let base = out.baseAddress else { return start }
        (base + start).update(from: text.utf8Start, count: count)
        return start + count
    }

    /// How many digits (and sign) `value` takes.
    @inline(__always)
    static func intLength(_ value: Int) -> Int {
        var magnitude = value.magnitude
        var length = value < 0 ? 2 : 1
        while magnitude >= 10 { magnitude /= 10; length += 1 }
        return length
    }

    /// Writes `value` in decimal at `out[at...]`; returns the index after it.
    @inline(__always)
    static func writeInt(_ value: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        let end = start + intLength(value)
        var magnitude = value.magnitude
        var o = end
        repeat {
            o -= 1
            out[o] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 { out[start] = UInt8(ascii: "-") }
        return end
    }
}

extension ChatMessage {
    /// The message as clients receive it — the text ``write(to:)`` makes, with `"seq":<seq>`
    /// as its last field when `seq` is given — in one allocation. A message with ``extra``
    /// fields goes through ``JSONWriter``.
    package func wireText(seq: Int?) -> String {
        guard extra.isEmpty else {
            var writer = JSONWriter(capacity: 112 + content.utf8.count)
            write(to: &writer)
            if let seq {
                writer.bytes.removeLast()  // the closing brace
                writer.appendRaw(",\"seq\":")
                writer.appendInt(seq)
                writer.appendByte(UInt8(ascii: "}"))
            }
            return writer.string
        }
        // One closure per string, so each is scanned with one pointer for both the length and
        // the writing (a helper per field that asked for its bytes twice was 20 % slower).
        var content = content, timestamp = timestamp
        var messageId = messageId ?? "", toolName = toolName ?? "", toolId = toolId ?? ""
        let hasMessageId = self.messageId != nil, hasToolName = self.toolName != nil, hasToolId = self.toolId != nil
        let typeName = type.rawValue
        return content.withUTF8 { content in
            timestamp.withUTF8 { timestamp in
                messageId.withUTF8 { messageId in
                    toolName.withUTF8 { toolName in
                        toolId.withUTF8 { toolId in
                            // {"type":"<type>","content":…,"timestamp":…[,"messageId":…][,"toolName":…][,"toolId":…][,"seq":N]}
                            var length = 9 + typeName.utf8.count + 1 + 11 + JSONText.quotedLength(content)
                                + 13 + JSONText.quotedLength(timestamp) + 1
                            if hasMessageId { length += 13 + JSONText.quotedLength(messageId) }
                            if hasToolName { length += 12 + JSONText.quotedLength(toolName) }
                            if hasToolId { length += 10 + JSONText.quotedLength(toolId) }
                            if let seq { length += 7 + JSONText.intLength(seq) }
                            return String(unsafeUninitializedCapacity: length) { out in
                                var o = JSONText.writeRaw("{\"type\":\"", into: out, at: 0)
                                for byte in typeName.utf8 { out[o] = byte; o += 1 }
                                o = JSONText.writeRaw("\",\"content\":", into: out, at: o)
                                o = JSONText.writeQuoted(content, into: out, at: o)
                                o = JSONText.writeRaw(",\"timestamp\":", into: out, at: o)
                                o = JSONText.writeQuoted(timestamp, into: out, at: o)
                                if hasMessageId {
                                    o = JSONText.writeRaw(",\"messageId\":", into: out, at: o)
                                    o = JSONText.writeQuoted(messageId, into: out, at: o)
                                }
                                if hasToolName {
                                    o = JSONText.writeRaw(",\"toolName\":", into: out, at: o)
                                    o = JSONText.writeQuoted(toolName, into: out, at: o)
                                }
                                if hasToolId {
                                    o = JSONText.writeRaw(",\"toolId\":", into: out, at: o)
                                    o = JSONText.writeQuoted(toolId, into: out, at: o)
                                }
                                if let seq {
                                    o = JSONText.writeRaw(",\"seq\":", into: out, at: o)
                                    o = JSONText.writeInt(seq, into: out, at: o)
                                }
                                out[o] = UInt8(ascii: "}")
                                return o + 1
                            }
                        }
                    }
                }
            }
        }
    }
}
