import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore

extension SwitchboardServer {
    /// Hummingbird's HTTP/1 server with the WebSocket upgrade, configured from
    /// ``Configuration/limits`` — keep-alive idle timeout, header size limit, WebSocket
    /// ping interval — with a ``ConnectionGuardHandler`` on every connection.
    func guardedServer(upgrade: LiveChatUpgrade, connections: ConnectionGuard) -> HTTPServerBuilder {
        let limits = configuration.limits.clamped()
        let headBytes = limits.maxHeaderBytes
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(
                idleTimeout: .seconds(Int64(limits.idleTimeoutSeconds)),
                httpDecoderConfiguration: .init(maxHeaderFieldSize: headBytes, maxHeaderListSize: headBytes)
            ),
            ws: .init(
                // Frames up to 4× the message limit reach the handler, which answers oversize
                // ones with an error frame instead of dropping the connection.
                maxFrameSize: configuration.maxMessageBytes * 4,
                // A peer that has not answered a ping by the next one is closed (1001).
                autoPing: .enabled(timePeriod: .seconds(limits.pingIntervalSeconds))
            )
        )
        let logger = self.logger
        return HTTPServerBuilder { responder in
            GuardedChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: channelConfiguration) { request, channel, _ in
                    upgrade.shouldUpgrade(request, channel: channel)
                },
                registry: connections, limits: limits, logger: logger
            )
        }
    }

    /// Puts an ``AcceptPauseHandler`` first in the listening socket's pipeline.
    static func guardAccepts(of channel: any Channel, connections: ConnectionGuard, logger: Logger) async {
        do {
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    AcceptPauseHandler(registry: connections, logger: logger), position: .first
                )
            }.get()
        } catch {
            logger.warning("could not install the accept back-off: \(error)")
        }
    }
}
