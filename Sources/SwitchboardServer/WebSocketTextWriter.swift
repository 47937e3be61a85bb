import NIOCore
import NIOWebSocket

/// Writes text frames of a live-chat connection straight into its channel: any number of
/// frames in one trip to the event loop, one flush for all of them.
///
/// Hummingbird's `WebSocketOutboundWriter` takes one frame per call, and each call is a hop
/// into its handler actor, one task on the event loop and one `writev`: that bounded a
/// connection at tens of thousands of frames a second. The daemon's session frames come in
/// batches (what a client's queue holds when its delivery task wakes), so a batch is
/// written as one: every frame's buffer carries headroom for its header, which NIO's frame
/// encoder then writes in place, and the socket sees one `writev` per up to 1,024 frames.
///
/// Every frame of a connection goes through one writer, so frames keep the order they were
/// written in. The close handshake and pings stay with Hummingbird's writer; a data frame
/// is never split, so they can come between any two frames. No WebSocket extension is
/// negotiated on these connections (a compressing one would have to see these frames).
///
/// Back-pressure: a write returns when its last frame has reached the socket, so while a
/// client reads slowly the caller waits, frames pile up in the client's bounded queue, and
/// the session manager cuts the client off as documented.
struct WebSocketTextWriter: Sendable {
    /// Room for the longest header of a server frame: two bytes and a 64-bit length.
    static let headroom = 10

    let channel: any Channel

    /// Writes one text frame.
    func write(_ text: String) async throws {
        try await write(CollectionOfOne(text))
    }

    /// Writes one text frame for each text, in order, and flushes once.
    func write<Texts: Sequence>(_ texts: Texts) async throws where Texts.Element == String {
        var frames: [WebSocketFrame] = []
        frames.reserveCapacity(texts.underestimatedCount)
        let allocator = channel.allocator
        for text in texts {
            var buffer = allocator.buffer(capacity: Self.headroom + text.utf8.count)
            buffer.moveWriterIndex(forwardBy: Self.headroom)
            buffer.moveReaderIndex(forwardBy: Self.headroom)
            buffer.writeString(text)
            frames.append(WebSocketFrame(fin: true, opcode: .text, data: buffer))
        }
        guard !frames.isEmpty else { return }
        let channel = self.channel
        let written = channel.eventLoop.flatSubmit { [frames] () -> EventLoopFuture<Void> in
            let done = channel.eventLoop.makePromise(of: Void.self)
            let last = frames.count - 1
            for (index, frame) in frames.enumerated() {
                channel.write(frame, promise: index == last ? done : nil)
            }
            channel.flush()
            return done.futureResult
        }
        try await written.get()
    }
}
