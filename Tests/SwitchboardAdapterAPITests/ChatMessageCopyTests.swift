import Testing
import SwitchboardAdapterAPI

/// A message's fields are shared by its copies until one changes: a change must never show
/// through another copy.
@Suite("Chat message copies")
struct ChatMessageCopyTests {
    @Test("changing a copy leaves the original as it was, field by field")
    func copiesAreIndependent() {
        let original = ChatMessage(type: .toolUse, content: "ls", timestamp: "2026-12-02T10:00:00.000Z",
                                   messageId: "m1", toolName: "Bash", toolId: "t1", extra: ["isError": .bool(false)])
        var copy = original
        #expect(copy == original)
        copy.type = .toolResult
        copy.content += " -la"
        copy.timestamp = "2026-12-02T10:00:01.000Z"
        copy.messageId = nil
        copy.toolName = "Read"
        copy.toolId = "t2"
        copy.extra["isError"] = .bool(true)
        #expect(original.type == .toolUse)
        #expect(original.content == "ls")
        #expect(original.timestamp == "2026-12-02T10:00:00.000Z")
        #expect(original.messageId == "m1")
        #expect(original.toolName == "Bash")
        #expect(original.toolId == "t1")
        #expect(original.extra == ["isError": .bool(false)])
        #expect(copy.content == "ls -la")
        #expect(copy.extra == ["isError": .bool(true)])
        #expect(copy != original)
    }

    @Test("equal fields make equal messages with equal hashes, shared or not")
    func equalityIsByValue() {
        let a = ChatMessage(type: .assistant, content: "hi", timestamp: "2026-12-02T10:00:00.000Z", messageId: "m")
        let b = ChatMessage(type: .assistant, content: "hi", timestamp: "2026-12-02T10:00:00.000Z", messageId: "m")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        var c = b
        c.extra["costUsd"] = .string("0.01")
        #expect(c != b)
        #expect(b.extra.isEmpty)
    }
}
