import SwitchboardAdapterAPI

/// The `claude` agent's settings, read from its `settings` object in the config file.
///
/// Every key is optional; see `Docs/ClaudeAdapter.md` for the full table. Unknown keys and
/// values of the wrong kind are refused with the key path and the reason, so a typo never
/// silently falls back to a default.
struct ClaudeSettings: Sendable, Hashable {
    /// The `claude` executable on the host: a path, or a name looked up on `PATH`.
    var binary = "claude"
    /// `--permission-mode=<mode>`, when set.
    var permissionMode: String?
    /// Adds `--dangerously-skip-permissions`.
    var dangerouslySkipPermissions = false
    /// Sets `IS_SANDBOX=1` for the CLI, which lets it run as root with
    /// `--dangerously-skip-permissions` (it refuses otherwise). Say so explicitly: it tells
    /// the CLI that the machine is a disposable sandbox.
    var isSandbox = false
    /// Arguments added after the ones the adapter manages.
    var extraArgs: [String] = []
    /// Environment variables for the CLI, on top of the host's (host mode) or passed into
    /// the container with `docker exec -e NAME` (container mode).
    var env: [String: String] = [:]
    /// The `docker` executable: a path, or a name looked up on `PATH`.
    var dockerBinary = "docker"
    /// `docker exec -u <containerUser>`.
    var containerUser = "root"
    /// The `claude` command inside the container.
    var containerBinary = "claude"
    /// `docker exec -w` when the session has no project path.
    var containerWorkdir = "/workspace"
    /// How long an interrupt waits for the CLI to end the turn before each escalation step
    /// (SIGINT, then SIGTERM, then SIGKILL to the process group).
    var interruptGraceMilliseconds = 5000
    /// How long shutdown waits after closing stdin, and again after SIGTERM, before SIGKILL.
    var shutdownGraceMilliseconds = 5000

    /// The keys the settings object may have.
    static let knownKeys: [String] = [
        "binary", "containerBinary", "containerUser", "containerWorkdir", "dangerouslySkipPermissions",
        "dockerBinary", "env", "extraArgs", "interruptGraceMs", "isSandbox", "permissionMode", "shutdownGraceMs",
    ]

    /// Flags the adapter sets itself; `extraArgs` may not repeat them.
    static let managedFlags: [String] = [
        "-p", "--print", "--input-format", "--output-format", "--verbose", "--include-partial-messages",
        "--model", "--resume", "-r", "--continue", "-c", "--session-id",
    ]

    init() {}

    /// Reads and checks the settings object.
    /// - Throws: ``AdapterError`` (`invalidSettings`) naming the key and the problem.
    init(json: JSONValue) throws(AdapterError) {
        guard let object = json.objectValue else {
            throw Self.invalid("settings", "must be an object, not \(json.kindDescription)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.knownKeys.contains($0) }) {
            throw Self.invalid("settings.\(unknown)", "unknown setting (known: \(Self.knownKeys.joined(separator: ", ")))")
        }
        if let v = object["binary"] { binary = try Self.nonEmptyString(v, "binary") }
        if let v = object["permissionMode"] {
            let mode = try Self.nonEmptyString(v, "permissionMode")
            guard mode.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw Self.invalid("settings.permissionMode", "'\(mode)' is not a permission mode (e.g. default, acceptEdits, plan, bypassPermissions)")
            }
            permissionMode = mode
        }
        if let v = object["dangerouslySkipPermissions"] { dangerouslySkipPermissions = try Self.bool(v, "dangerouslySkipPermissions") }
        if let v = object["isSandbox"] { isSandbox = try Self.bool(v, "isSandbox") }
        if let v = object["extraArgs"] {
            guard let list = v.arrayValue else {
                throw Self.invalid("settings.extraArgs", "must be an array of strings, not \(v.kindDescription)")
            }
            extraArgs = try list.enumerated().map { (index, item) throws(AdapterError) -> String in
                guard let arg = item.stringValue else {
                    throw Self.invalid("settings.extraArgs[\(index)]", "must be a string, not \(item.kindDescription)")
                }
                let flag = arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg
                if Self.managedFlags.contains(flag) {
                    throw Self.invalid("settings.extraArgs[\(index)]", "'\(flag)' is set by the adapter and may not be given here")
                }
                return arg
            }
        }
        if let v = object["env"] {
            guard let members = v.objectValue else {
                throw Self.invalid("settings.env", "must be an object of strings, not \(v.kindDescription)")
            }
            for (name, value) in members {
                guard !name.isEmpty, !name.contains("="), !name.utf8.contains(0) else {
                    throw Self.invalid("settings.env", "'\(name)' is not a valid environment variable name")
                }
                guard let text = value.stringValue else {
                    throw Self.invalid("settings.env.\(name)", "must be a string, not \(value.kindDescription)")
                }
                env[name] = text
            }
        }
        if let v = object["dockerBinary"] { dockerBinary = try Self.nonEmptyString(v, "dockerBinary") }
        if let v = object["containerUser"] { containerUser = try Self.nonEmptyString(v, "containerUser") }
        if let v = object["containerBinary"] { containerBinary = try Self.nonEmptyString(v, "containerBinary") }
        if let v = object["containerWorkdir"] { containerWorkdir = try Self.nonEmptyString(v, "containerWorkdir") }
        if let v = object["interruptGraceMs"] { interruptGraceMilliseconds = try Self.milliseconds(v, "interruptGraceMs") }
        if let v = object["shutdownGraceMs"] { shutdownGraceMilliseconds = try Self.milliseconds(v, "shutdownGraceMs") }
    }

    private static func invalid(_ key: String, _ problem: String) -> AdapterError {
        AdapterError(.invalidSettings, "\(key): \(problem)")
    }

    private static func nonEmptyString(_ value: JSONValue, _ key: String) throws(AdapterError) -> String {
        guard let text = value.stringValue, !text.isEmpty else {
            throw invalid("settings.\(key)", "must be a non-empty string, not \(value.stringValue == nil ? value.kindDescription : "an empty string")")
        }
        return text
    }

    private static func bool(_ value: JSONValue, _ key: String) throws(AdapterError) -> Bool {
        guard let flag = value.boolValue else {
            throw invalid("settings.\(key)", "must be true or false, not \(value.kindDescription)")
        }
        return flag
    }

    private static func milliseconds(_ value: JSONValue, _ key: String) throws(AdapterError) -> Int {
        guard let ms = value.intValue, ms >= 0, ms <= 600_000 else {
            throw invalid("settings.\(key)", "must be a whole number of milliseconds from 0 to 600000")
        }
        return ms
    }
}
