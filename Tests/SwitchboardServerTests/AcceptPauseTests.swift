import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import SwitchboardServer
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket's back-off: accepting that fails for lack of descriptors pauses
/// instead of retrying in a tight loop, and the error does not end the accept loop.
@Suite("Accept back-off on EMFILE")
struct AcceptPauseTests {
    /// Records the errors that get past the handler.
    final class ErrorSink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = Never
        var errors: [any Error] = []
        func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
    }

    /// The last auto-read value the handler set, if any.
    static func autoRead(_ channel: EmbeddedChannel) -> Bool? {
        channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
    }

    static func setUp() throws -> (EmbeddedChannel, ErrorSink, AcceptPauseHandler) {
        let channel = EmbeddedChannel()
        let sink = ErrorSink()
        let handler = AcceptPauseHandler(registry: nil, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(sink)
        return (channel, sink, handler)
    }

    @Test("EMFILE stops reading for 10 ms, then 20, 40 … up to a second, and is kept from the pipeline")
    func pausesAndDoubles() throws {
        let (channel, sink, handler) = try Self.setUp()
        let loop = channel.embeddedEventLoop
        var expected: Int64 = 10
        for _ in 0..<9 {
            channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
            #expect(Self.autoRead(channel) == false)
            loop.advanceTime(by: .milliseconds(expected - 1))
            #expect(Self.autoRead(channel) == false, "resumed before \(expected) ms")
            loop.advanceTime(by: .milliseconds(1))
            #expect(Self.autoRead(channel) == true, "not resumed after \(expected) ms")
            expected = min(expected * 2, 1000)
        }
        #expect(expected == 1000)
        #expect(handler.failures == 9)
        #expect(sink.errors.isEmpty)
        _ = try channel.finish()
    }

    @Test("An accepted connection resets the pause; ENFILE, ENOBUFS and ENOMEM pause too; ECONNABORTED is dropped; others pass")
    func otherErrors() throws {
        let (channel, sink, handler) = try Self.setUp()
        let loop = channel.embeddedEventLoop
        for code in [ENFILE, ENOBUFS, ENOMEM] {
            channel.pipeline.fireErrorCaught(IOError(errnoCode: code, reason: "accept"))
            #expect(Self.autoRead(channel) == false)
            loop.advanceTime(by: .seconds(1))
            #expect(Self.autoRead(channel) == true)
        }
        try channel.writeInbound(EmbeddedChannel() as any Channel)
        #expect(handler.failures == 0)
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        loop.advanceTime(by: .milliseconds(10))
        #expect(Self.autoRead(channel) == true, "the pause did not start again at 10 ms")

        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        #expect(sink.errors.isEmpty)
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EBADF, reason: "accept"))
        #expect(sink.errors.count == 1)
        _ = try? channel.finish()
    }
}
