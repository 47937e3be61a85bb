import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore

/// Decides whether a request becomes a live-chat WebSocket: `GET /v1/live/{workspace}` with
/// the token (`Authorization: Bearer …`, else the subprotocol `switchboard.bearer.<base64url
/// of the token>`, else `?token=`), an accepted `Origin` if any, and a valid workspace name.
/// Anything else is not upgraded (the WebSocket layer answers `400`).
///
/// This replaces a WebSocket route in a Hummingbird router: such a route keeps its request
/// context in a box the context itself holds, a reference cycle that leaked about a kilobyte
/// for every WebSocket connection ever made.
struct LiveChatUpgrade: Sendable {
    static let pathPrefix = "/v1/live/"
    /// The subprotocol the daemon selects when a client offers it (browsers require the
    /// answer to name one of the subprotocols they offered).
    static let subprotocol = "switchboard"
    /// The prefix of the subprotocol that carries the token, base64url-encoded without
    /// padding: the way a browser's `WebSocket`, which cannot set headers, sends it
    /// without putting it in the URL.
    static let tokenSubprotocolPrefix = "switchboard.bearer."

    let token: String
    let origins: OriginPolicy
    let manager: SessionManager
    let defaultAgentType: String
    let maxMessageBytes: Int
    let logger: Logger

    /// The workspace named by an acceptable upgrade request, or `nil` to refuse it.
    func workspace(for request: HTTPRequest) -> String? {
        guard request.method == .get, let target = request.path else { return nil }
        let uri = URI(target)
        guard uri.path.hasPrefix(Self.pathPrefix) else { return nil }
        // As written, not percent-decoded, like every path parameter.
        let workspace = String(uri.path.dropFirst(Self.pathPrefix.count))
        guard !workspace.contains("/"), WorkspaceName.problem(with: workspace) == nil else { return nil }
        let presented: String?
        if let header = request.headerFields[.authorization] {
            presented = BearerTokenMiddleware<BasicRequestContext>.bearerToken(in: header)
        } else if let offered = Self.subprotocols(of: request).first(where: { $0.hasPrefix(Self.tokenSubprotocolPrefix) }) {
            presented = Self.decodeBase64URL(offered.dropFirst(Self.tokenSubprotocolPrefix.count))
        } else {
            presented = uri.queryParameters.get("token")
        }
        guard let presented, AccessToken.matches(presented, token) else { return nil }
        if let origin = request.headerFields[.origin], !origins.accepts(origin) { return nil }
        return workspace
    }

    /// The answer to an upgrade request on `channel`: refuse, or upgrade and serve a
    /// ``LiveChatConnection``.
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard let workspace = workspace(for: request) else { return .dontUpgrade }
        var headers = HTTPFields()
        if Self.subprotocols(of: request).contains(Self.subprotocol) { headers[.secWebSocketProtocol] = Self.subprotocol }
        let manager = self.manager, defaultAgentType = self.defaultAgentType
        let maxMessageBytes = self.maxMessageBytes, logger = self.logger
        return .upgrade(headers) { inbound, outbound, _ in
            let connection = LiveChatConnection(
                workspace: workspace, manager: manager, defaultAgentType: defaultAgentType,
                maxMessageBytes: maxMessageBytes, outbound: outbound,
                frames: WebSocketTextWriter(channel: channel), logger: logger
            )
            await connection.run(inbound: inbound)
        }
    }

    /// The subprotocols a request offers (`Sec-WebSocket-Protocol`, comma-separated, in any
    /// number of fields).
    static func subprotocols(of request: HTTPRequest) -> [String] {
        request.headerFields[values: .secWebSocketProtocol].flatMap { field in
            field.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// The text that base64url `encoded` (without padding) stands for; `nil` when it is not
    /// base64url or not UTF-8.
    static func decodeBase64URL(_ encoded: Substring) -> String? {
        var base64 = String(encoded.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        guard !base64.contains("=") else { return nil }
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
