import Testing
import SwitchboardAdapterAPI
@testable import SwitchboardCore

/// What a written batch reports committed: each session's highest `seq`, however its frames
/// are interleaved with other sessions' in the batch.
@Suite("Frame log commits")
struct FrameLogCommitTests {
    private func frame(_ session: String, _ seq: Int) -> LoggedFrame {
        LoggedFrame(sessionId: session, seq: seq, kind: .message, json: "{}", createdAt: 0)
    }

    @Test("runs of one session, interleaved runs, and a single frame")
    func highestSeqPerSession() {
        #expect(FrameLog.commit(of: []).isEmpty)
        #expect(FrameLog.commit(of: [frame("a", 7)]) == ["a": 7])
        #expect(FrameLog.commit(of: (0..<100).map { frame("a", $0) }) == ["a": 99])
        let interleaved = [frame("a", 1), frame("a", 2), frame("b", 10), frame("a", 3), frame("b", 11), frame("b", 12), frame("c", 0), frame("a", 4)]
        #expect(FrameLog.commit(of: interleaved) == ["a": 4, "b": 12, "c": 0])
        // A session id equal in text but not the same string instance is the same session.
        let rebuilt = String("ab".reversed().reversed())
        #expect(FrameLog.commit(of: [frame("ab", 5), frame(rebuilt, 6)]) == ["ab": 6])
    }
}
