import SwitchboardAdapterAPI

/// An ACP agent type's settings, read from its `settings` object in the config file.
///
/// Only `binary` is required: the agent's command. See `Docs/ACPAdapter.md` for the table.
/// Unknown keys and values of the wrong kind are refused with the key path and the reason.
struct ACPSettings: Sendable, Hashable {
    /// The agent's executable on the host: a path, or a name looked up on `PATH`.
    var binary = ""
    /// Arguments for the agent (e.g. `["--model", "…"]`, or the subcommand that speaks ACP).
    var extraArgs: [String] = []
    /// Environment variables for the agent, on top of the host's.
    var env: [String: String] = [:]
    /// A session mode to select after `session/new` (one of the agent's `availableModes`,
    /// or a value of its `mode` config option).
    var mode: String?
    /// Whether the agent may read and write files through the client (`fs/*`), confined to
    /// the session's project directory.
    var fileSystem = true
    /// Whether the agent may run commands through the client (`terminal/*`).
    var terminal = true
    /// How long an interrupt waits for the agent to end the turn after `session/cancel`
    /// before the process group is stopped (the next message resumes the session).
    var interruptGraceMilliseconds = 5000
    /// How long shutdown waits after closing stdin, and again after SIGTERM, before SIGKILL.
    var shutdownGraceMilliseconds = 5000
    /// How long `initialize`, `session/new`, `session/load`, `session/resume` and the other
    /// setup requests may take (an agent written in Python may need several seconds).
    var requestTimeoutMilliseconds = 120_000
    /// How long one turn (`session/prompt`) may take before it is cancelled.
    var turnTimeoutMilliseconds = 3_600_000

    /// The keys the settings object may have.
    static let knownKeys: [String] = [
        "binary", "env", "extraArgs", "fileSystem", "interruptGraceSeconds", "mode", "requestTimeoutSeconds",
        "shutdownGraceSeconds", "terminal", "turnTimeoutSeconds",
    ]

    /// Keys other plugins spelled differently, each with the key this one takes.
    static let renamedKeys: [String: String] = [
        "command": "binary", "environment": "env", "args": "extraArgs",
        "interruptGraceMs": "interruptGraceSeconds", "shutdownGraceMs": "shutdownGraceSeconds",
    ]

    init() {}

    /// Reads and checks the settings object.
    /// - Throws: ``AdapterError`` (`invalidSettings`) naming the key and the problem.
    init(json: JSONValue) throws(AdapterError) {
        let r = try SettingsReader(json, known: Self.knownKeys, renamed: Self.renamedKeys)
        guard let binary = try r.nonEmptyString("binary") else {
            throw r.invalid("binary", "is required: the ACP agent's executable (a path, or a name on PATH)")
        }
        self.binary = binary
        extraArgs = try r.stringArray("extraArgs") ?? extraArgs
        env = try r.environment("env") ?? env
        mode = try r.nonEmptyString("mode")
        fileSystem = try r.bool("fileSystem") ?? fileSystem
        terminal = try r.bool("terminal") ?? terminal
        if let grace = try r.seconds("interruptGraceSeconds", in: 0...600) { interruptGraceMilliseconds = Self.milliseconds(grace) }
        if let grace = try r.seconds("shutdownGraceSeconds", in: 0...600) { shutdownGraceMilliseconds = Self.milliseconds(grace) }
        if let limit = try r.seconds("requestTimeoutSeconds", in: 1...3600) { requestTimeoutMilliseconds = Self.milliseconds(limit) }
        if let limit = try r.seconds("turnTimeoutSeconds", in: 1...86400) { turnTimeoutMilliseconds = Self.milliseconds(limit) }
    }

    /// The agent's name for messages: the binary's file name (`fast-agent-acp`).
    var binaryName: String {
        binary.split(separator: "/").last.map(String.init) ?? binary
    }

    /// A duration (at most a day, as the reader's ranges ensure) in whole milliseconds,
    /// rounded to the nearest.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
    }
}
