import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// In the listening socket's pipeline: when accepting fails for lack of descriptors or memory
/// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`), stops accepting for a while instead of trying
/// again at once — the pending connection keeps the socket readable, so NIO would retry in a
/// tight loop — and closes the connection that has waited longest without a request, which
/// frees a descriptor. The pause starts at ``minimumPause`` and doubles, up to
/// ``maximumPause``, while accepting keeps failing; an accepted connection resets it.
///
/// NIO's own `AcceptBackoffHandler`, which the bootstrap installs, only delays the *next*
/// read request; the read pending when accept failed keeps the socket registered, so the
/// loop spins anyway. Turning auto-read off is what takes the socket out of the poll set.
///
/// It also keeps these errors, and `ECONNABORTED` (a client that gave up before it was
/// accepted), from the rest of the pipeline.
final class AcceptPauseHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    static let minimumPause = TimeAmount.milliseconds(10)
    static let maximumPause = TimeAmount.seconds(1)

    private let registry: ConnectionGuard?
    private let logger: Logger
    private var pause = AcceptPauseHandler.minimumPause
    private var paused = false
    /// How many accepts failed since the last one that worked.
    private(set) var failures = 0

    init(registry: ConnectionGuard?, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// Whether the error is one accepting can recover from by waiting.
    static func isExhaustion(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        failures = 0
        pause = Self.minimumPause
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == ECONNABORTED { return }
        guard Self.isExhaustion(error) else {
            context.fireErrorCaught(error)
            return
        }
        failures += 1
        let freed = registry?.evictOne() ?? false
        if failures == 1 {
            logger.warning("cannot accept connections: \(error); pausing accepts", metadata: [
                "freed": "\(freed)", "open": "\(registry?.openCount ?? 0)",
            ])
        }
        guard !paused else { return }
        paused = true
        // With auto-read off NIO stops watching the socket; turning it on again resumes.
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let wait = freed ? Self.minimumPause : pause
        pause = min(pause * 2, Self.maximumPause)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: wait) {
            let (handler, context) = loopBound.value
            handler.paused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }
}

@available(*, unavailable)
extension AcceptPauseHandler: Sendable {}
