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
    /// Asks Switchboard's clients when a tool needs permission (and the person when the
    /// model asks a question): runs the CLI with `--permission-prompt-tool=stdio` and answers
    /// its `can_use_tool` requests with their decision. Off: the CLI refuses such tools
    /// itself (`… needs approval`). Key `askPermissions`, default on.
    var askPermissions = true
    /// Sets `IS_SANDBOX=1` for the CLI, which lets it run as root with
    /// `--dangerously-skip-permissions` (it refuses otherwise). Say so explicitly: it tells
    /// the CLI that the machine is a disposable sandbox.
    var isSandbox = false
    /// Arguments added after the ones the adapter manages.
    var extraArgs: [String] = []
    /// Environment variables for the CLI, on top of the host's (host mode) or passed into
    /// the container with `docker exec -e NAME` (container mode).
    var env: [String: String] = [:]
    /// The `docker` executable (key `docker`): a path, or a name looked up on `PATH`.
    var dockerBinary = "docker"
    /// `docker exec -u <containerUser>`.
    var containerUser = "root"
    /// The `claude` command inside the container.
    var containerBinary = "claude"
    /// `docker exec -w` when the session has no project path.
    var containerWorkdir = "/workspace"
    /// How long an interrupt waits for the CLI to end the turn before each escalation step
    /// (SIGINT, then SIGTERM, then SIGKILL to the process group). The key is
    /// `interruptGraceSeconds`, fractions allowed.
    var interruptGraceMilliseconds = 5000
    /// How long shutdown waits after closing stdin, and again after SIGTERM, before SIGKILL
    /// (key `shutdownGraceSeconds`).
    var shutdownGraceMilliseconds = 5000

    /// The keys the settings object may have.
    static let knownKeys: [String] = [
        "askPermissions", "binary", "containerBinary", "containerUser", "containerWorkdir", "dangerouslySkipPermissions",
        "docker", "env", "extraArgs", "interruptGraceSeconds", "isSandbox", "permissionMode", "shutdownGraceSeconds",
    ]

    /// Keys of earlier versions, each with the key that replaced it.
    static let renamedKeys: [String: String] = [
        "dockerBinary": "docker", "interruptGraceMs": "interruptGraceSeconds", "shutdownGraceMs": "shutdownGraceSeconds",
    ]

    /// Flags the adapter sets itself; `extraArgs` may not repeat them.
    static let managedFlags: [String] = [
        "-p", "--print", "--input-format", "--output-format", "--verbose", "--include-partial-messages",
        "--model", "--resume", "-r", "--continue", "-c", "--session-id", "--permission-prompt-tool",
    ]

    init() {}

    /// Reads and checks the settings object.
    /// - Throws: ``AdapterError`` (`invalidSettings`) naming the key and the problem.
    init(json: JSONValue) throws(AdapterError) {
        let r = try SettingsReader(json, known: Self.knownKeys, renamed: Self.renamedKeys)
        binary = try r.nonEmptyString("binary") ?? binary
        if let mode = try r.nonEmptyString("permissionMode") {
            guard mode.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw r.invalid("permissionMode", "'\(mode)' is not a permission mode (e.g. default, acceptEdits, plan, bypassPermissions)")
            }
            permissionMode = mode
        }
        dangerouslySkipPermissions = try r.bool("dangerouslySkipPermissions") ?? dangerouslySkipPermissions
        askPermissions = try r.bool("askPermissions") ?? askPermissions
        isSandbox = try r.bool("isSandbox") ?? isSandbox
        extraArgs = try r.stringArray("extraArgs") ?? extraArgs
        for (index, arg) in extraArgs.enumerated() {
            let flag = arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg
            if Self.managedFlags.contains(flag) {
                throw r.invalid("extraArgs[\(index)]", "'\(flag)' is set by the adapter and may not be given here")
            }
        }
        env = try r.environment("env") ?? env
        dockerBinary = try r.nonEmptyString("docker") ?? dockerBinary
        containerUser = try r.nonEmptyString("containerUser") ?? containerUser
        containerBinary = try r.nonEmptyString("containerBinary") ?? containerBinary
        containerWorkdir = try r.path("containerWorkdir") ?? containerWorkdir
        if let grace = try r.seconds("interruptGraceSeconds", in: 0...600) { interruptGraceMilliseconds = Self.milliseconds(grace) }
        if let grace = try r.seconds("shutdownGraceSeconds", in: 0...600) { shutdownGraceMilliseconds = Self.milliseconds(grace) }
    }

    /// Whether the CLI is run with `--permission-prompt-tool=stdio`: when asked for, and
    /// unless permissions are skipped altogether (then nothing would ask).
    var usesPermissionPrompts: Bool {
        askPermissions && !dangerouslySkipPermissions && permissionMode != "bypassPermissions"
    }

    /// A duration in whole milliseconds, rounded to the nearest (`0.3` seconds, read as a
    /// `Double` a hair below, is 300).
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
    }
}
