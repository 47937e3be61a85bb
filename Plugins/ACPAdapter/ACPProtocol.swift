import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The fixed parts of ACP (schema v1) the client sends, and what it reads from the agent's
/// answers. Everything is read leniently: unknown fields are ignored, missing ones default.
enum ACPProtocol {
    /// The protocol version the client speaks (an integer; every agent tried answers 1).
    static let protocolVersion = 1

    /// `initialize`: the protocol version, the client capabilities the plugin implements and
    /// the client's name.
    static func initializeParams(fileSystem: Bool, terminal: Bool) -> JSONValue {
        .object([
            "protocolVersion": .int(protocolVersion),
            "clientCapabilities": .object([
                "fs": .object(["readTextFile": .bool(fileSystem), "writeTextFile": .bool(fileSystem)]),
                "terminal": .bool(terminal),
            ]),
            "clientInfo": .object([
                "name": .string("switchboard"), "title": .string("Switchboard"), "version": .string(ACPPluginExport.info.version),
            ]),
        ])
    }

    /// What the agent said about itself in its `initialize` answer.
    struct Agent: Sendable, Equatable {
        var protocolVersion: Int?
        /// `agentInfo.name` and `.version`, when given.
        var name: String?
        var version: String?
        /// `agentCapabilities.loadSession`.
        var loadSession = false
        /// `agentCapabilities.sessionCapabilities.resume` is present.
        var resumeSession = false
        /// `agentCapabilities.sessionCapabilities.close` is present.
        var closeSession = false
        /// The `authMethods` names (informational: agents gate on their own files).
        var authMethods: [String] = []
        /// The whole answer, for the session's info message.
        var raw: JSONValue = .null

        init() {}

        init(initializeResult result: JSONValue) {
            raw = result
            protocolVersion = result["protocolVersion"]?.intValue
            name = result["agentInfo"]?["name"]?.stringValue
            version = result["agentInfo"]?["version"]?.stringValue
            let capabilities = result["agentCapabilities"]
            loadSession = capabilities?["loadSession"]?.boolValue ?? false
            let session = capabilities?["sessionCapabilities"]
            resumeSession = Self.present(session?["resume"])
            closeSession = Self.present(session?["close"])
            authMethods = (result["authMethods"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue ?? $0["id"]?.stringValue }
        }

        /// A capability object is present when it is not missing, `null` or `false`.
        private static func present(_ value: JSONValue?) -> Bool {
            switch value {
            case nil, .null?, .bool(false)?: false
            default: true
            }
        }

        /// `fast-agent-acp 0.10.48`, or `the agent` when it gave no name.
        var title: String {
            guard let name else { return "the agent" }
            return version.map { "\(name) \($0)" } ?? name
        }
    }

    /// One `select` config option (`configOptions` of a session setup answer, or of
    /// `config_option_update`).
    struct ConfigOption: Sendable, Equatable {
        var id: String
        var name: String
        var category: String?
        var type: String
        var currentValue: JSONValue
        /// The values of a `select` option (`options`, flattened out of groups).
        var values: [(value: String, name: String)]

        static func == (a: ConfigOption, b: ConfigOption) -> Bool {
            a.id == b.id && a.name == b.name && a.category == b.category && a.type == b.type && a.currentValue == b.currentValue
                && a.values.map(\.value) == b.values.map(\.value) && a.values.map(\.name) == b.values.map(\.name)
        }

        init?(_ json: JSONValue) {
            guard let id = json["id"]?.stringValue else { return nil }
            self.id = id
            name = json["name"]?.stringValue ?? id
            category = json["category"]?.stringValue
            type = json["type"]?.stringValue ?? "select"
            currentValue = json["currentValue"] ?? .null
            var values: [(String, String)] = []
            for entry in json["options"]?.arrayValue ?? [] {
                if let value = entry["value"]?.stringValue {
                    values.append((value, entry["name"]?.stringValue ?? value))
                } else if let group = entry["options"]?.arrayValue {
                    for member in group {
                        if let value = member["value"]?.stringValue { values.append((value, member["name"]?.stringValue ?? value)) }
                    }
                }
            }
            self.values = values
        }

        static func list(_ json: JSONValue?) -> [ConfigOption]? {
            guard let array = json?.arrayValue else { return nil }
            return array.compactMap(ConfigOption.init)
        }
    }

    /// The session's modes, config options and (older agents) models, as the session setup
    /// answer and later updates leave them.
    struct SessionSetup: Sendable, Equatable {
        /// `modes.currentModeId`.
        var currentModeId: String?
        /// `modes.availableModes` (id, name).
        var modes: [String] = []
        var modeNames: [String: String] = [:]
        /// `configOptions`.
        var configOptions: [ConfigOption] = []
        /// The older `models` state: `currentModelId` and `availableModels[].modelId`.
        var currentModelId: String?
        var models: [String]?

        init() {}

        /// Reads what a `session/new`, `session/load` or `session/resume` answer carries.
        mutating func read(_ result: JSONValue) {
            if let modes = result["modes"], modes != .null {
                currentModeId = modes["currentModeId"]?.stringValue ?? currentModeId
                let available = modes["availableModes"]?.arrayValue ?? []
                self.modes = available.compactMap { $0["id"]?.stringValue }
                modeNames = Dictionary(available.compactMap { mode in mode["id"]?.stringValue.map { ($0, mode["name"]?.stringValue ?? $0) } },
                                       uniquingKeysWith: { a, _ in a })
            }
            if let options = ConfigOption.list(result["configOptions"]) { configOptions = options }
            if let models = result["models"], models != .null {
                currentModelId = models["currentModelId"]?.stringValue ?? currentModelId
                self.models = (models["availableModels"]?.arrayValue ?? []).compactMap { $0["modelId"]?.stringValue }
            }
        }

        /// The config option that chooses the model: category `model`, else id `model`.
        var modelOption: ConfigOption? {
            configOptions.first { $0.category == "model" && $0.type == "select" }
                ?? configOptions.first { $0.id == "model" && $0.type == "select" }
        }

        /// The config option that chooses the mode: category `mode`, else id `mode`.
        var modeOption: ConfigOption? {
            configOptions.first { $0.category == "mode" && $0.type == "select" }
                ?? configOptions.first { $0.id == "mode" && $0.type == "select" }
        }

        /// How the model is chosen, if the agent offers a choice.
        var modelChoice: ModelChoice? {
            if let option = modelOption { return .configOption(id: option.id, values: option.values.map(\.value)) }
            if let models { return .setModel(models: models) }
            return nil
        }

        /// The model in use, as the agent says.
        var currentModel: String? {
            if let option = modelOption { return option.currentValue.stringValue }
            return currentModelId
        }

        /// The mode in use, as the agent says.
        var currentMode: String? {
            modeOption?.currentValue.stringValue ?? currentModeId
        }
    }

    /// How an agent lets the client choose the model.
    enum ModelChoice: Sendable, Equatable {
        /// `session/set_config_option` with this option id.
        case configOption(id: String, values: [String])
        /// The older `session/set_model` (`modelId`).
        case setModel(models: [String])

        /// The values the agent offers (empty when it did not list them).
        var values: [String] {
            switch self {
            case .configOption(_, let values): values
            case .setModel(let models): models
            }
        }
    }

    /// The `session/prompt` parameters for a text message.
    static func promptParams(sessionId: String, text: String) -> JSONValue {
        .object(["sessionId": .string(sessionId), "prompt": .array([.object(["type": .string("text"), "text": .string(text)])])])
    }

    /// The stop reasons of a `session/prompt` answer.
    enum StopReason: String, Sendable {
        case endTurn = "end_turn"
        case maxTokens = "max_tokens"
        case maxTurnRequests = "max_turn_requests"
        case refusal
        case cancelled
    }
}

/// What the plugin exports: its info and its factory (the entry symbol is in `ACPPlugin`).
package enum ACPPluginExport {
    package static let info = PluginInfo(
        agentType: "acp", displayName: "Agent Client Protocol bridge", version: "1.0.0", servesConfiguredTypes: true
    )
    package static let factory: AgentAdapterFactory = { settings in ACPAgent(settings: try ACPSettings(json: settings)) }
}
