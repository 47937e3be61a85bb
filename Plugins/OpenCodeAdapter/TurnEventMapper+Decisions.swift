import SwitchboardAdapterAPI

extension TurnEventMapper {
    /// What a permission or question event means for the requests of this session.
    enum DecisionEvent: Sendable, Hashable {
        /// The server waits for this decision.
        case asked(ServerDecision)
        /// The server no longer waits for the request with this id: it was answered (by this
        /// adapter, another client of the server, or the server itself when an `always`
        /// covered it or a `reject` took the session's other requests with it) or dismissed.
        case settled(id: String)
    }

    /// The permission or question event `event` is, for this session or one of its
    /// sub-agents' sessions (``childSessions``); `nil` for any other event, and for requests
    /// of other sessions.
    ///
    /// - `permission.updated` (OpenCode ≤ 1.0.223) and `permission.asked` (≥ 1.0.224) →
    ///   ``DecisionEvent/asked(_:)``, each with the reply route of its generation;
    /// - `question.asked` (≥ 1.1.7) → ``DecisionEvent/asked(_:)``;
    /// - `permission.replied` (`permissionID` in the old generation, `requestID` in the new),
    ///   `question.replied`, `question.rejected` → ``DecisionEvent/settled(id:)``.
    func decision(_ event: JSONValue) -> DecisionEvent? {
        guard let type = event["type"]?.stringValue, type.hasPrefix("permission.") || type.hasPrefix("question.") else { return nil }
        let properties = event["properties"] ?? .object([:])
        guard let session = properties["sessionID"]?.stringValue, session == sessionID || childSessions.contains(session) else { return nil }
        switch type {
        case "permission.updated":
            let input = properties["callID"]?.stringValue.flatMap { toolInputs[$0] }
            return OpenCodeDecisions.legacyPermission(properties, toolInput: input).map { .asked(namingPart($0)) }
        case "permission.asked":
            let input = properties["tool"]?["callID"]?.stringValue.flatMap { toolInputs[$0] }
            return OpenCodeDecisions.permission(properties, toolInput: input).map { .asked(namingPart($0)) }
        case "question.asked":
            return OpenCodeDecisions.question(properties).map { .asked(namingPart($0)) }
        case "permission.replied":
            return (properties["requestID"]?.stringValue ?? properties["permissionID"]?.stringValue).map { .settled(id: $0) }
        case "question.replied", "question.rejected":
            return properties["requestID"]?.stringValue.map { .settled(id: $0) }
        default:
            return nil
        }
    }

    /// `decision` with its `toolId` the part id of its tool call (as the `tool_use` message
    /// has it), when the call's part was seen; its `callID` otherwise.
    private func namingPart(_ decision: ServerDecision) -> ServerDecision {
        guard let callID = decision.request.toolId, let part = toolParts[callID] else { return decision }
        var named = decision
        named.request.toolId = part
        return named
    }
}
