import SwitchboardAdapterAPI
import SwitchboardPluginSDK

/// The fixed parts of the app-server protocol the adapter sends (codex 0.147.0).
enum CodexProtocol {
    /// The client's name and version in `initialize` (they end up in Codex's user agent).
    static let clientInfo: JSONValue = .object([
        "name": .string("switchboard"), "title": .string("Switchboard"), "version": .string(CodexPluginExport.info.version),
    ])

    /// Notifications the adapter has no use for, opted out of at `initialize`.
    static let optedOutNotifications = ["account/rateLimits/updated", "remoteControl/status/changed"]

    /// `initialize`: client info, the experimental API (`thread/backgroundTerminals/clean`,
    /// which stops an interrupted turn's commands, needs it), and the opt-outs.
    static var initializeParams: JSONValue {
        .object([
            "clientInfo": clientInfo,
            "capabilities": .object([
                "experimentalApi": .bool(true),
                "optOutNotificationMethods": .array(optedOutNotifications.map(JSONValue.string)),
            ]),
        ])
    }

    /// The parameters `thread/start` and `thread/resume` share: the working directory, the
    /// approval policy, the sandbox and, when the session has one, the model. Never a model
    /// provider: that is the user's Codex configuration.
    static func threadParams(settings: CodexSettings, directory: String?, model: String?) -> [String: JSONValue] {
        var params: [String: JSONValue] = [
            "approvalPolicy": .string(settings.approvalPolicy),
            "sandbox": .string(settings.sandbox),
        ]
        if let directory { params["cwd"] = .string(directory) }
        if let model { params["model"] = .string(model) }
        return params
    }

    /// Whether `account/read` says the provider needs OpenAI credentials, no account is
    /// logged in, and the environment holds no API key Codex could use instead.
    static func isLoggedOut(account: JSONValue, environment: [String: String]) -> Bool {
        guard account["requiresOpenaiAuth"]?.boolValue == true, account["account"] == nil || account["account"] == .null else {
            return false
        }
        return ["OPENAI_API_KEY", "CODEX_API_KEY"].allSatisfy { (environment[$0] ?? "").isEmpty }
    }

    /// The error when `account/read` says OpenAI credentials are needed and there are none.
    static let notLoggedIn = "Codex is not logged in: its model provider needs OpenAI credentials and it has none. Run `codex login` for this CODEX_HOME, set OPENAI_API_KEY in settings.env, or configure another model provider in $CODEX_HOME/config.toml."
}

/// What the plugin exports: its info and its factory (the entry symbol is in `CodexPlugin`).
package enum CodexPluginExport {
    package static let info = PluginInfo(agentType: "codex", displayName: "Codex", version: "1.0.0")
    package static let factory: AgentAdapterFactory = { settings in CodexAgent(settings: try CodexSettings(json: settings)) }
}
