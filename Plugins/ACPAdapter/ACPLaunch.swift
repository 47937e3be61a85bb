import SwitchboardAdapterAPI
import SwitchboardProcess

/// How an ACP agent process is started for a session, built as a ``ProcessLaunch`` value
/// without any I/O, so the command line can be tested as a value.
enum ACPLaunch {
    /// The launch: `settings.binary` with `settings.extraArgs`, in the session's working
    /// directory, with the host's environment plus `settings.env`.
    static func make(settings: ACPSettings, options: StartOptions, hostEnvironment: [String: String]) -> ProcessLaunch {
        var environment = hostEnvironment
        for (name, value) in settings.env { environment[name] = value }
        return ProcessLaunch(
            program: settings.binary, arguments: settings.extraArgs, environment: environment,
            workingDirectory: workingDirectory(settings: settings, options: options, hostEnvironment: hostEnvironment),
            role: "ACP agent binary", settingKey: "settings.binary"
        )
    }

    /// The session's working directory (the `cwd` of `session/new`, and the root of what the
    /// agent may touch through the client): the project path, else the home directory.
    static func workingDirectory(settings: ACPSettings, options: StartOptions, hostEnvironment: [String: String]) -> String {
        if let project = options.projectPath, !project.isEmpty { return project }
        if let home = settings.env["HOME"] ?? hostEnvironment["HOME"], home.hasPrefix("/") { return home }
        return "/"
    }
}
