import SwitchboardAdapterAPI

/// The `system` message at the first turn of each agent process: which agent it is, how its
/// session was set up, and the modes, models and config options it offers — the session
/// info clients show. The same in machine form is its `acp` field.
enum ACPSessionInfo {
    static func message(_ running: ACPRunning, agentType: String, cwd: String) -> ChatMessage {
        let agent = running.agent
        let setup = running.setup
        let sessionId = running.sessionId ?? "?"
        var lines: [String] = []
        let how = running.origin == "new" ? "a new session" : "the session restored with \(running.origin)"
        lines.append("\(agent.title) (ACP \(agent.protocolVersion ?? ACPProtocol.protocolVersion)) for '\(agentType)': \(how), \(sessionId), in \(cwd).")
        if !setup.modes.isEmpty {
            let modes = setup.modes.map { $0 == setup.currentMode ? "\($0) (current)" : $0 }
            lines.append("Modes: \(modes.joined(separator: ", ")).")
        }
        switch setup.modelChoice {
        case nil:
            lines.append("Model: no choice offered.")
        case let choice?:
            let current = setup.currentModel.map { "\($0); " } ?? ""
            lines.append("Model: \(current)choices: \(choice.values.isEmpty ? "any" : choice.values.joined(separator: ", ")).")
        }
        for option in setup.configOptions where option.id != setup.modelOption?.id && option.id != setup.modeOption?.id {
            let current = option.currentValue.stringValue ?? option.currentValue.jsonText
            lines.append("\(option.name): \(current) (choices: \(option.values.map(\.value).joined(separator: ", "))).")
        }
        var restore: [String] = []
        if agent.resumeSession { restore.append("session/resume") }
        if agent.loadSession { restore.append("session/load") }
        lines.append(restore.isEmpty ? "Restorable: no (neither session/resume nor session/load)." : "Restorable with \(restore.joined(separator: " and ")).")
        return ChatMessage(type: .system, content: lines.joined(separator: "\n"), extra: ["acp": json(running, setup: setup)])
    }

    /// The machine-readable form: agent info, capabilities, session id, modes, config options.
    static func json(_ running: ACPRunning, setup: ACPProtocol.SessionSetup) -> JSONValue {
        let raw = running.agent.raw
        var info: [String: JSONValue] = ["sessionId": .string(running.sessionId ?? ""), "origin": .string(running.origin)]
        for key in ["agentInfo", "agentCapabilities", "authMethods", "protocolVersion"] {
            if let value = raw[key] { info[key] = value }
        }
        info["modes"] = .array(setup.modes.map { .object(["id": .string($0), "name": .string(setup.modeNames[$0] ?? $0)]) })
        if let mode = setup.currentMode { info["currentMode"] = .string(mode) }
        info["configOptions"] = .array(setup.configOptions.map { option in
            var object: [String: JSONValue] = [
                "id": .string(option.id), "name": .string(option.name), "type": .string(option.type),
                "currentValue": option.currentValue, "values": .array(option.values.map { .string($0.value) }),
            ]
            if let category = option.category { object["category"] = .string(category) }
            return .object(object)
        })
        if let models = setup.models { info["models"] = .array(models.map(JSONValue.string)) }
        if let model = setup.currentModel { info["currentModel"] = .string(model) }
        return .object(info)
    }
}
