import Logging
import NIOCore
import NIOHTTP1
import SwitchboardAdapterAPI

/// One connection's guard, between NIO's HTTP decoder and the upgrade handler:
///
/// - registers the connection with the ``ConnectionGuard`` (which may refuse it: `503`);
/// - closes it when no complete request head arrives within the header timeout (slow or idle
///   clients; between keep-alive requests Hummingbird's idle timeout applies);
/// - answers a request head over the size limit with `431`, and any other unparsable head
///   with `400`, instead of dropping the connection without a word.
///
/// Once a head asks for a protocol upgrade the handler steps aside: what passes afterwards is
/// WebSocket traffic, which it neither reads nor times.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Not registered yet (the channel is not active).
        case initial
        /// Waiting for a complete request head; the timer runs.
        case awaitingHead
        /// `requests` requests read and not yet answered.
        case http(requests: Int)
        /// Upgraded (or upgrading): nothing to look at any more.
        case passthrough
        /// Refused or answered with an error; the connection is going away.
        case closing
    }

    private let registry: ConnectionGuard
    private let headerTimeout: TimeAmount
    private let maxHeaderBytes: Int
    private let logger: Logger
    private var state = State.initial
    private var ticket: UInt64?
    private var timer: Scheduled<Void>?
    /// Whether NIO's upgrade handler still waits for the first request head. If the connection
    /// ends while it waits, it reports a failed upgrade, which Hummingbird logs as an error —
    /// unless it learnt first that the input ended, which is what ``endQuietly(_:)`` tells it.
    private var upgraderWaiting = true
    /// Set once an error answer is written: the connection stays open (its output closed) for
    /// a moment, so other handlers' requests to close it are held back.
    private var lingering = false

    init(registry: ConnectionGuard, headerTimeout: TimeAmount, maxHeaderBytes: Int, logger: Logger) {
        self.registry = registry
        self.headerTimeout = headerTimeout
        self.maxHeaderBytes = maxHeaderBytes
        self.logger = logger
    }

    // MARK: - Life

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        endQuietly(context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { upgraderWaiting = false }
        // Graceful shutdown: Hummingbird closes idle keep-alive connections; one that has not
        // sent a request yet is closed here, or shutdown would wait for its header timeout.
        if event is ChannelShouldQuiesceEvent, case .awaitingHead = state {
            timer?.cancel()
            timer = nil
            state = .closing
            ConnectionGuard.closeQuietly(context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Tells a waiting upgrade handler that no request will come, so that it ends without
    /// reporting an error (it closes the connection, or finds it closed).
    private func endQuietly(_ context: ChannelHandlerContext) {
        guard upgraderWaiting else { return }
        upgraderWaiting = false
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard case .initial = state else { return }
        switch registry.admit(context.channel) {
        case .admitted(let ticket):
            self.ticket = ticket
            state = .awaitingHead
            armTimer(context)
        case .refused:
            state = .closing
            logger.debug("connection refused: every connection is busy", metadata: ["limit": "\(registry.limit)"])
            answer(context, .serviceUnavailable, "too_many_connections",
                   "The server has \(registry.limit) connections open, the most it allows (server.maxConnections), and none is idle. Try again later.")
        }
    }

    private func stop() {
        timer?.cancel()
        timer = nil
        if let ticket { registry.release(ticket) }
        ticket = nil
    }

    private func armTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: headerTimeout) {
            let (handler, context) = loopBound.value
            handler.headerTimedOut(context)
        }
    }

    private func headerTimedOut(_ context: ChannelHandlerContext) {
        timer = nil
        guard case .awaitingHead = state else { return }
        state = .closing
        logger.debug("connection closed: no complete request head within the header timeout")
        ConnectionGuard.closeQuietly(context.channel)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .passthrough:
            context.fireChannelRead(data)
        case .closing, .initial:
            break  // a refused or failed connection: nothing more is read
        case .awaitingHead:
            guard case .head(let head) = unwrapInboundIn(data) else {
                context.fireChannelRead(data)
                return
            }
            timer?.cancel()
            timer = nil
            upgraderWaiting = false
            if head.headers.contains(name: "upgrade") {
                state = .passthrough
            } else {
                state = .http(requests: 1)
            }
            if let ticket { registry.enter(.busy, ticket: ticket) }
            context.fireChannelRead(data)
        case .http(let requests):
            if case .head = unwrapInboundIn(data) {
                state = .http(requests: requests + 1)
                if let ticket { registry.enter(.busy, ticket: ticket) }
            }
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch state {
        case .awaitingHead, .http(requests: 0):
            break
        default:
            // A request is being answered: Hummingbird deals with the error.
            context.fireErrorCaught(error)
            return
        }
        timer?.cancel()
        timer = nil
        state = .closing
        if parse == .headerOverflow {
            answer(context, .requestHeaderFieldsTooLarge, "header_too_large",
                   "The request head (request line and header fields) is larger than \(maxHeaderBytes) bytes.")
        } else {
            answer(context, .badRequest, "bad_request", "The request is not valid HTTP/1.1: \(parse).")
        }
    }

    // MARK: - Outbound

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if lingering && mode == .all {
            promise?.succeed(())
            return
        }
        context.close(mode: mode, promise: promise)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .http(let requests) = state, case .end = unwrapOutboundIn(data) {
            let left = max(0, requests - 1)
            state = .http(requests: left)
            if left == 0, let ticket { registry.enter(.idle, ticket: ticket) }
        }
        context.write(data, promise: promise)
    }

    // MARK: - Answering without the router

    /// Writes a JSON error response with `Connection: close`, then closes the output side and,
    /// after a second in which what the client still sends is read and dropped (closing with
    /// unread input would reset the connection and could lose the answer), the connection.
    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String) {
        let body = JSONValue.object(["error": .object(["code": .string(code), "message": .string(message)])]).jsonText
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(mode: .output, promise: nil)
        lingering = true
        endQuietly(context)
        // When the client closes its side first, NIO closes the connection by itself.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(1)) {
            handler.value.lingering = false
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuardHandler: Sendable {}
