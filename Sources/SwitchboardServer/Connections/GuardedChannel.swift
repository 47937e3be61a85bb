import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// Hummingbird's HTTP/1 + WebSocket child channel with a ``ConnectionGuardHandler`` in each
/// connection's pipeline, right after NIO's HTTP decoder.
struct GuardedChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let base: HTTP1WebSocketUpgradeChannel
    let registry: ConnectionGuard
    let limits: ConnectionLimits
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let registry = self.registry, limits = self.limits, guardLogger = self.logger
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let upgrader = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(
                ConnectionGuardHandler(
                    registry: registry, headerTimeout: .seconds(Int64(limits.headerTimeoutSeconds)),
                    maxHeaderBytes: limits.maxHeaderBytes, logger: guardLogger
                ),
                position: .before(upgrader)
            )
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
