import SwitchboardAdapterAPI
import SwitchboardProcess

/// How a `claude` process is started: the command line, environment and working directory
/// for a session, built by ``make(settings:options:model:resume:hostEnvironment:)`` as a
/// ``ProcessLaunch`` value without any I/O, so the command line can be tested as a value.
enum ClaudeLaunch {
    /// The arguments every long-lived `claude` process gets: print mode with JSON lines in
    /// and out, and partial messages so text streams as it is generated.
    static let streamingArguments = [
        "-p", "--input-format=stream-json", "--output-format=stream-json", "--verbose", "--include-partial-messages",
    ]

    /// The `claude` arguments for a session: the streaming ones, then the model, the session
    /// to resume, the permission flags and the extra arguments. Values always use the
    /// `--flag=value` form, so a value starting with `-` cannot be read as a flag.
    static func claudeArguments(settings: ClaudeSettings, model: String?, resume: String?) -> [String] {
        var args = streamingArguments
        if let model, !model.isEmpty { args.append("--model=\(model)") }
        if let resume, !resume.isEmpty { args.append("--resume=\(resume)") }
        if let mode = settings.permissionMode { args.append("--permission-mode=\(mode)") }
        if settings.dangerouslySkipPermissions { args.append("--dangerously-skip-permissions") }
        if settings.usesPermissionPrompts { args.append("--permission-prompt-tool=stdio") }
        args.append(contentsOf: settings.extraArgs)
        return args
    }

    /// The launch for one process of a session.
    ///
    /// - Host mode (`options.containerName == nil`): runs `settings.binary` in the project
    ///   directory (default: the home directory), with the host's environment plus
    ///   `settings.env` (plus `IS_SANDBOX=1` when `settings.isSandbox`).
    /// - Container mode: runs `docker exec -i -u <user> -w <workdir> [-e NAME]… <container>
    ///   claude …`. Variables from `settings.env` are set on the `docker` process and passed
    ///   by name only (`-e NAME`), so their values never appear on a command line.
    static func make(
        settings: ClaudeSettings,
        options: StartOptions,
        model: String?,
        resume: String?,
        hostEnvironment: [String: String]
    ) -> ProcessLaunch {
        let claudeArgs = claudeArguments(settings: settings, model: model, resume: resume)
        var environment = hostEnvironment
        for (name, value) in settings.env { environment[name] = value }
        guard let container = options.containerName, !container.isEmpty else {
            if settings.isSandbox { environment["IS_SANDBOX"] = "1" }
            let directory = options.projectPath.flatMap { $0.isEmpty ? nil : $0 } ?? environment["HOME"] ?? "/"
            return ProcessLaunch(
                program: settings.binary, arguments: claudeArgs, environment: environment, workingDirectory: directory,
                role: "claude binary", settingKey: "settings.binary"
            )
        }
        let workdir = options.projectPath.flatMap { $0.isEmpty ? nil : $0 } ?? settings.containerWorkdir
        var args = ["exec", "-i", "-u", settings.containerUser, "-w", workdir]
        for name in settings.env.keys.sorted() {
            args.append(contentsOf: ["-e", name])
        }
        if settings.isSandbox { args.append(contentsOf: ["-e", "IS_SANDBOX=1"]) }
        args.append(container)
        args.append(settings.containerBinary)
        args.append(contentsOf: claudeArgs)
        return ProcessLaunch(
            program: settings.dockerBinary, arguments: args, environment: environment, workingDirectory: nil,
            role: "docker binary", settingKey: "settings.docker"
        )
    }
}
