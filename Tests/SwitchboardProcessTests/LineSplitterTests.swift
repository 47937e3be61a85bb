import SwitchboardProcess
import Testing

@Suite("Line splitter")
struct LineSplitterTests {
    /// Feeds `text` in chunks of `size` bytes; returns the lines (dropped ones as `<N bytes>`).
    static func split(_ text: String, chunk size: Int, limit: Int = 1 << 20) -> (lines: [String], dropped: Int) {
        var splitter = LineSplitter(maxLineLength: limit)
        var lines: [String] = []
        let record: (ProcessLine) -> Void = { line in
            switch line {
            case .text(let bytes): lines.append(String(decoding: bytes, as: UTF8.self))
            case .tooLong(let bytes, let limit): lines.append("<\(bytes) bytes over \(limit)>")
            }
        }
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { splitter.feed($0, line: record) }
            start = end
        }
        splitter.finish(line: record)
        return (lines, splitter.droppedLineCount)
    }

    @Test("Lines are split at newlines only, however the bytes arrive")
    func newlinesOnly() {
        let text = "{\"a\":\"x\u{2028}y\"}\r\n{\"b\":2}\n\npartial"
        for size in [1, 2, 3, 7, text.utf8.count] {
            #expect(Self.split(text, chunk: size).lines == ["{\"a\":\"x\u{2028}y\"}", "{\"b\":2}", "", "partial"], "chunk size \(size)")
        }
    }

    @Test("A line over the limit is dropped whole and reported with its length, in order")
    func longLines() {
        for size in [1, 3, 100] {
            let (lines, dropped) = Self.split("toolong\nok\nlongeragain", chunk: size, limit: 4)
            #expect(lines == ["<7 bytes over 4>", "ok", "<11 bytes over 4>"], "chunk size \(size)")
            #expect(dropped == 2)
        }
        #expect(Self.split("abcd\nabcde\n", chunk: 2, limit: 4).lines == ["abcd", "<5 bytes over 4>"])
    }
}
