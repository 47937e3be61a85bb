import SwitchboardAdapterAPI
import SwitchboardProcess

/// How a `codex app-server` process is started for a session, built as a ``ProcessLaunch``
/// value without any I/O, so the command line can be tested as a value.
enum CodexLaunch {
    /// The `codex` arguments: the app-server subcommand (JSON-RPC on stdio), then the extra
    /// arguments. Nothing else: model, approval policy and sandbox travel in `thread/start`,
    /// and the model provider is the user's own configuration.
    static func codexArguments(settings: CodexSettings) -> [String] {
        ["app-server"] + settings.extraArgs
    }

    /// The launch for one process of a session.
    ///
    /// - Host mode (`options.containerName == nil`): runs `settings.binary` in the project
    ///   directory (default: the home directory), with the host's environment plus
    ///   `settings.env`.
    /// - Container mode: `docker exec -i -u <user> -w <workdir> [-e NAME]… <container> codex
    ///   app-server …`. Variables from `settings.env` are set on the `docker` process and
    ///   passed by name only, so their values never appear on a command line.
    static func make(settings: CodexSettings, options: StartOptions, hostEnvironment: [String: String]) -> ProcessLaunch {
        let codexArgs = codexArguments(settings: settings)
        var environment = hostEnvironment
        for (name, value) in settings.env { environment[name] = value }
        let project = options.projectPath.flatMap { $0.isEmpty ? nil : $0 }
        guard let container = options.containerName, !container.isEmpty else {
            return ProcessLaunch(
                program: settings.binary, arguments: codexArgs, environment: environment,
                workingDirectory: project ?? environment["HOME"] ?? "/",
                role: "codex binary", settingKey: "settings.binary"
            )
        }
        var args = ["exec", "-i", "-u", settings.containerUser, "-w", project ?? settings.containerWorkdir]
        for name in settings.env.keys.sorted() { args += ["-e", name] }
        args.append(container)
        args.append(settings.containerBinary)
        args += codexArgs
        return ProcessLaunch(
            program: settings.dockerBinary, arguments: args, environment: environment, workingDirectory: nil,
            role: "docker binary", settingKey: "settings.docker"
        )
    }

    /// The working directory Codex runs its thread in (`cwd` of `thread/start`): the project
    /// path, else the container's work directory or the host's home.
    static func threadDirectory(settings: CodexSettings, options: StartOptions, hostEnvironment: [String: String]) -> String? {
        if let project = options.projectPath, !project.isEmpty { return project }
        if let container = options.containerName, !container.isEmpty { return settings.containerWorkdir }
        return nil
    }
}
