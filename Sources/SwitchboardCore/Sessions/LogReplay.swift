import SwitchboardAdapterAPI

/// The part of a client's replay that the ring no longer has: read from the event log in
/// pages and sent before the ring's frames. Frames the log no longer keeps (removed by the
/// history's retention) are announced with a notice; a row that cannot be read is skipped
/// with a notice, and the rest still arrives.
struct LogReplay: Sendable {
    let store: any SessionStore
    let sessionId: String
    /// The `seq`s to send (those after the client's `resumeFrom`, before the ring's oldest).
    let range: ClosedRange<Int>

    static let pageSize = 500

    func send(_ deliver: @Sendable (SessionFrame) async throws -> Void) async throws {
        var after = range.lowerBound - 1
        var first = true
        while after < range.upperBound {
            let page: [LoggedFrame]
            do {
                page = try await store.frames(sessionId, after: after, limit: Self.pageSize)
            } catch {
                try await deliver(SessionFrame(seq: nil, message: ChatMessage(
                    type: .error, content: "The history after seq \(after) could not be read: \(error)"
                )))
                return
            }
            if first, let oldest = page.first?.seq ?? (page.isEmpty ? range.upperBound + 1 : nil), oldest > range.lowerBound {
                try await deliver(SessionFrame(seq: nil, notice: .framesDropped(replayingFrom: oldest)))
            }
            first = false
            guard !page.isEmpty else { return }
            for logged in page where logged.seq <= range.upperBound {
                do {
                    try await deliver(try SessionFrame(logged: logged))
                } catch let error as JSONError {
                    try await deliver(SessionFrame(seq: nil, message: ChatMessage(
                        type: .error, content: "Frame \(logged.seq) of the history could not be read (\(error.reason)); it was skipped."
                    )))
                }
            }
            after = page.last?.seq ?? range.upperBound
        }
    }
}
