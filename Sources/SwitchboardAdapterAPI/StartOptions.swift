/// What an adapter is told when its session starts.
public struct StartOptions: Sendable, Hashable {
    /// The workspace the session belongs to (`@host` for the host itself).
    public var workspaceName: String
    /// The container the agent runs in; `nil` when it runs on the host.
    public var containerName: String?
    /// The agent's own session id to resume, if any.
    public var agentSessionId: String?
    /// The model to use, if chosen.
    public var model: String?
    /// The project directory the agent works in.
    public var projectPath: String?
    /// Whether the agent runs directly on the host.
    public var isHost: Bool
    /// A directory the adapter may keep state in.
    public var stateDirectory: String?
    /// Whether the host shows decision requests to people and answers them (a host that
    /// predates decisions omits it). When `false`, ``AdapterEventChannel/ask(_:)`` returns
    /// `nil` at once: nobody would answer. Key `answersDecisions` on the wire.
    public var answersDecisions: Bool
    /// The agent type this adapter serves, e.g. `fast` (a host that predates it omits it).
    /// A plugin the config maps to several types learns here which one it is. Key
    /// `agentType` on the wire.
    public var agentType: String?

    public init(
        workspaceName: String,
        containerName: String? = nil,
        agentSessionId: String? = nil,
        model: String? = nil,
        projectPath: String? = nil,
        isHost: Bool = false,
        stateDirectory: String? = nil,
        answersDecisions: Bool = true,
        agentType: String? = nil
    ) {
        self.workspaceName = workspaceName
        self.containerName = containerName
        self.agentSessionId = agentSessionId
        self.model = model
        self.projectPath = projectPath
        self.isHost = isHost
        self.stateDirectory = stateDirectory
        self.answersDecisions = answersDecisions
        self.agentType = agentType
    }
}

extension StartOptions {
    /// The options as the JSON object that crosses the plugin boundary.
    package var jsonText: String {
        var w = JSONWriter()
        w.appendRaw("{\"workspaceName\":")
        w.appendString(workspaceName)
        w.appendRaw(",\"isHost\":")
        isHost ? w.appendRaw("true") : w.appendRaw("false")
        if answersDecisions { w.appendRaw(",\"answersDecisions\":true") }
        for (key, value) in [
            ("containerName", containerName), ("agentSessionId", agentSessionId), ("model", model),
            ("projectPath", projectPath), ("stateDirectory", stateDirectory), ("agentType", agentType),
        ] {
            guard let value else { continue }
            w.appendByte(UInt8(ascii: ","))
            w.appendString(key)
            w.appendByte(UInt8(ascii: ":"))
            w.appendString(value)
        }
        w.appendByte(UInt8(ascii: "}"))
        return w.string
    }

    /// Parses the options object; unknown keys are ignored so hosts can add options.
    package init(jsonBytes: UnsafeBufferPointer<UInt8>) throws(JSONError) {
        var reader = JSONReader(jsonBytes)
        // A host that does not say it answers decisions (one that predates them) does not.
        var options = StartOptions(workspaceName: "", answersDecisions: false)
        var sawWorkspace = false
        try reader.readObjectKeys { (r: inout JSONReader, key: JSONKey) throws(JSONError) in
            switch key {
            case "workspaceName": options.workspaceName = try r.readString(); sawWorkspace = true
            case "containerName": options.containerName = try r.readOptionalString()
            case "agentSessionId": options.agentSessionId = try r.readOptionalString()
            case "model": options.model = try r.readOptionalString()
            case "projectPath": options.projectPath = try r.readOptionalString()
            case "stateDirectory": options.stateDirectory = try r.readOptionalString()
            case "agentType": options.agentType = try r.readOptionalString()
            case "isHost": options.isHost = try r.readBool()
            case "answersDecisions": options.answersDecisions = try r.consumeNull() ? false : r.readBool()
            default: try r.skipValue()
            }
        }
        try reader.expectEnd()
        guard sawWorkspace else { throw JSONError(offset: 0, reason: "start options have no 'workspaceName'") }
        self = options
    }
}
