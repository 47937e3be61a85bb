import Testing
@testable import SwitchboardAdapterAPI

/// The one-allocation wire text of a message must be byte for byte what ``JSONWriter`` makes.
@Suite("Chat message wire text")
struct ChatMessageWireTextTests {
    private func written(_ message: ChatMessage, seq: Int?) -> String {
        var writer = JSONWriter()
        message.write(to: &writer)
        if let seq {
            writer.bytes.removeLast()
            writer.appendRaw(",\"seq\":")
            writer.appendInt(seq)
            writer.appendByte(UInt8(ascii: "}"))
        }
        return writer.string
    }

    private static let texts = [
        "", "plain", "quote \" and backslash \\", "lines\nand\ttabs\r", "\u{08}\u{0C}\u{01}\u{1F}\u{7F}",
        "ünïcødé — 日本語 😀", String(repeating: "x\"", count: 300), "ends with a quote\"", "\\",
    ]

    @Test("every combination of fields, texts that need escaping and seqs")
    func sameAsTheWriter() throws {
        for content in Self.texts {
            for kind in ChatMessage.Kind.allCases {
                for optional in [nil, "id-1", "with \"quote\"\n"] as [String?] {
                    for seq in [nil, 0, 7, 1234567890, Int.max, -1, Int.min] as [Int?] {
                        let message = ChatMessage(type: kind, content: content, timestamp: "2026-12-02T10:00:00.000Z",
                                                  messageId: optional, toolName: optional == nil ? "Bash" : nil, toolId: optional)
                        let text = message.wireText(seq: seq)
                        #expect(text == written(message, seq: seq), "\(kind) \(content.debugDescription) \(String(describing: seq))")
                        // Read back by the reader (which does not use the writers' escaping), it is
                        // the same message, with the seq as an extra field.
                        var read = try ChatMessage(jsonText: text)
                        #expect(read.extra.removeValue(forKey: "seq") == seq.map { .number(String($0)) })
                        #expect(read == message)
                    }
                }
            }
        }
        // The exact text, escapes spelled out.
        let message = ChatMessage(type: .toolResult, content: "a\"b\\c\n\u{1}é", timestamp: "t", toolId: "t\u{1F}")
        #expect(message.wireText(seq: -12) == #"{"type":"tool_result","content":"a\"b\\c\n\u0001é","timestamp":"t","toolId":"t\u001f","seq":-12}"#)
    }

    @Test("a message with extra fields is written by the writer, extras included")
    func extrasFallBack() {
        let message = ChatMessage(type: .done, content: "", timestamp: "t", extra: ["costUsd": .number("0.25"), "b": .string("\"")])
        #expect(message.wireText(seq: 3) == written(message, seq: 3))
        #expect(message.wireText(seq: 3).hasSuffix(",\"seq\":3}"))
    }
}
