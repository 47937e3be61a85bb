import SwitchboardAdapterAPI

/// The `codex` agent's settings, read from its `settings` object in the config file.
///
/// Every key is optional; see `Docs/CodexAdapter.md` for the full table. Unknown keys and
/// values of the wrong kind are refused with the key path and the reason. The model
/// provider is deliberately not a setting: it comes from the user's own Codex configuration
/// (`$CODEX_HOME/config.toml`), which the adapter never overrides.
struct CodexSettings: Sendable, Hashable {
    /// The approval policies `thread/start` takes (`approvalPolicy`).
    static let approvalPolicies = ["never", "on-request", "untrusted"]
    /// The sandbox modes `thread/start` takes (`sandbox`).
    static let sandboxModes = ["read-only", "workspace-write", "danger-full-access"]

    /// The `codex` executable on the host: a path, or a name looked up on `PATH`.
    var binary = "codex"
    /// Arguments added after `app-server` (e.g. `-c key=value` overrides).
    var extraArgs: [String] = []
    /// Environment variables for the CLI, on top of the host's (host mode) or passed into
    /// the container with `docker exec -e NAME` (container mode).
    var env: [String: String] = [:]
    /// When Codex asks before running a command or changing a file (`on-request`: when the
    /// model wants to leave the sandbox; `untrusted`: for anything not known to be
    /// read-only; `never`). Each request is asked of the session's clients (see
    /// ``CodexServerRequests``).
    var approvalPolicy = "on-request"
    /// Where commands run: `read-only`, `workspace-write` or `danger-full-access`.
    var sandbox = "workspace-write"
    /// The `docker` executable (container mode).
    var dockerBinary = "docker"
    /// `docker exec -u <containerUser>`.
    var containerUser = "root"
    /// The `codex` command inside the container.
    var containerBinary = "codex"
    /// `docker exec -w` when the session has no project path.
    var containerWorkdir = "/workspace"
    /// How long an interrupt waits for the turn to start (an interrupt sent earlier is lost),
    /// and then for the server to end it, before the process group is killed.
    var interruptGraceMilliseconds = 5000
    /// How long shutdown waits after closing stdin, and again after SIGTERM, before SIGKILL.
    var shutdownGraceMilliseconds = 5000
    /// How long a request to the server (`initialize`, `thread/start`, `thread/resume`,
    /// `turn/start`) may take before the turn fails.
    var requestTimeoutMilliseconds = 60_000

    /// The keys the settings object may have.
    static let knownKeys: [String] = [
        "approvalPolicy", "binary", "containerBinary", "containerUser", "containerWorkdir", "docker", "env",
        "extraArgs", "interruptGraceSeconds", "requestTimeoutSeconds", "sandbox", "shutdownGraceSeconds",
    ]

    /// Keys other plugins spelled differently, each with the key this one takes.
    static let renamedKeys: [String: String] = [
        "dockerBinary": "docker", "interruptGraceMs": "interruptGraceSeconds", "shutdownGraceMs": "shutdownGraceSeconds",
    ]

    /// Arguments `extraArgs` may not hold: the adapter runs the `app-server` subcommand on
    /// stdio itself, and the model is a session setting.
    static let managedArguments: [String] = ["app-server", "--listen", "exec", "-m", "--model"]

    init() {}

    /// Reads and checks the settings object.
    /// - Throws: ``AdapterError`` (`invalidSettings`) naming the key and the problem.
    init(json: JSONValue) throws(AdapterError) {
        let r = try SettingsReader(json, known: Self.knownKeys, renamed: Self.renamedKeys)
        binary = try r.nonEmptyString("binary") ?? binary
        extraArgs = try r.stringArray("extraArgs") ?? extraArgs
        for (index, arg) in extraArgs.enumerated() {
            let flag = arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg
            if Self.managedArguments.contains(flag) {
                throw r.invalid("extraArgs[\(index)]", "'\(flag)' is set by the adapter and may not be given here")
            }
        }
        env = try r.environment("env") ?? env
        approvalPolicy = try Self.choice(r, "approvalPolicy", Self.approvalPolicies) ?? approvalPolicy
        sandbox = try Self.choice(r, "sandbox", Self.sandboxModes) ?? sandbox
        dockerBinary = try r.nonEmptyString("docker") ?? dockerBinary
        containerUser = try r.nonEmptyString("containerUser") ?? containerUser
        containerBinary = try r.nonEmptyString("containerBinary") ?? containerBinary
        containerWorkdir = try r.path("containerWorkdir") ?? containerWorkdir
        if let grace = try r.seconds("interruptGraceSeconds", in: 0...600) { interruptGraceMilliseconds = Self.milliseconds(grace) }
        if let grace = try r.seconds("shutdownGraceSeconds", in: 0...600) { shutdownGraceMilliseconds = Self.milliseconds(grace) }
        if let limit = try r.seconds("requestTimeoutSeconds", in: 1...3600) { requestTimeoutMilliseconds = Self.milliseconds(limit) }
    }

    /// One of `choices`, or `nil` when the key is absent.
    private static func choice(_ r: SettingsReader, _ key: String, _ choices: [String]) throws(AdapterError) -> String? {
        guard let value = try r.nonEmptyString(key) else { return nil }
        guard choices.contains(value) else {
            throw r.invalid(key, "'\(value)' is not one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    /// A duration (at most an hour, as the reader's ranges ensure) in whole milliseconds,
    /// rounded to the nearest.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int((attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
    }
}
