import SwitchboardAdapterAPI

/// A notice the session manager itself sends a session's clients, as opposed to what the
/// agent says. Clients on the wire see each as a `system` message whose text is
/// ``wireText`` (the protocol's established wording); in-process clients read the typed
/// value from ``SessionFrame/notice``.
public enum SessionNotice: Sendable, Hashable {
    /// The session's status changed: `{"status":"idle"}`.
    case status(SessionStatus)
    /// The agent's own session id became known: `{"agentSessionId":"…"}`.
    case agentSessionId(String)
    /// This client is attached; what follows is live: `Connected to session (status: idle)`.
    case connected(status: SessionStatus)
    /// Some frames the client asked for are no longer kept (the history's retention removed
    /// them); what follows starts at `replayingFrom`.
    case framesDropped(replayingFrom: Int)

    /// The notice's text as clients on the wire receive it.
    public var wireText: String {
        switch self {
        case .status(let status): Self.jsonNotice("status", status.rawValue)
        case .agentSessionId(let id): Self.jsonNotice("agentSessionId", id)
        case .connected(let status): "Connected to session (status: \(status.rawValue))"
        case .framesDropped(let seq): "Earlier messages are no longer kept; replaying from seq \(seq)."
        }
    }

    /// The status this notice reports, if it is a status change.
    public var status: SessionStatus? {
        if case .status(let status) = self { return status }
        return nil
    }

    /// A one-key JSON object, e.g. `{"status":"idle"}`.
    private static func jsonNotice(_ key: StaticString, _ value: String) -> String {
        var json = JSONWriter(capacity: 64)
        json.appendByte(UInt8(ascii: "{"))
        json.appendString(key.description)
        json.appendByte(UInt8(ascii: ":"))
        json.appendString(value)
        json.appendByte(UInt8(ascii: "}"))
        return json.string
    }
}

/// Why a client was detached from a session; ``description`` is the text wire clients get.
public enum DisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// The client (or its connection) asked to leave.
    case requested
    /// The session was disposed (deleted, or the daemon is stopping).
    case sessionDisposed
    /// More than `allowance` frames were waiting for the client.
    case fellBehind(allowance: Int)
    /// Delivering to the client failed.
    case sendFailed(String)
    /// This node of a cluster stopped running the session (another node took it over); the
    /// text says why. Connecting again follows it where it runs now.
    case sessionMoved(String)

    /// `Disconnected`, `Session disposed`, `Disconnected: more than 20 frames were waiting…`.
    public var description: String {
        switch self {
        case .requested: "Disconnected"
        case .sessionDisposed: "Session disposed"
        case .fellBehind(let allowance):
            "Disconnected: more than \(allowance) frames were waiting for this client. Reconnect and resume from the last seq received."
        case .sendFailed(let failure): "Disconnected: \(failure)"
        case .sessionMoved(let why): "This node stopped running the session: \(why). Connect again to follow it."
        }
    }
}
