import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything needed to start one `claude` process: what to run, with which arguments,
/// environment and working directory. Built by ``ClaudeLaunch/make(settings:options:model:resume:hostEnvironment:)``,
/// which does no I/O, so the command line can be tested as a value.
struct ClaudeLaunch: Sendable, Hashable {
    /// The program: `claude` itself (host mode) or `docker` (container mode), as configured
    /// (a path or a bare name still to be looked up on `PATH`).
    var program: String
    /// What ``program`` is, for error messages: `claude binary` or `docker binary`.
    var programRole: String
    /// The settings key that names ``program``, for error messages.
    var programSettingKey: String
    /// The arguments after the program name.
    var arguments: [String]
    /// The complete environment of the process.
    var environment: [String: String]
    /// The working directory; `nil` keeps the host's.
    var workingDirectory: String?

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
    ) -> ClaudeLaunch {
        let claudeArgs = claudeArguments(settings: settings, model: model, resume: resume)
        var environment = hostEnvironment
        for (name, value) in settings.env { environment[name] = value }
        guard let container = options.containerName, !container.isEmpty else {
            if settings.isSandbox { environment["IS_SANDBOX"] = "1" }
            let directory = options.projectPath.flatMap { $0.isEmpty ? nil : $0 } ?? environment["HOME"] ?? "/"
            return ClaudeLaunch(
                program: settings.binary, programRole: "claude binary", programSettingKey: "settings.binary", arguments: claudeArgs,
                environment: environment, workingDirectory: directory
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
        return ClaudeLaunch(
            program: settings.dockerBinary, programRole: "docker binary", programSettingKey: "settings.dockerBinary", arguments: args,
            environment: environment, workingDirectory: nil
        )
    }

    /// The program as an absolute path: itself when it contains a `/`, else the first
    /// executable file of that name on the launch environment's `PATH`.
    /// - Throws: ``AdapterError`` (`agentFailure`) naming the program, where it was looked
    ///   for, and the settings key to change.
    func resolvedProgram() throws(AdapterError) -> String {
        if program.contains("/") {
            guard Self.isExecutableFile(program) else {
                let reason = Self.fileExists(program) ? "is not an executable file" : "does not exist"
                throw AdapterError(.agentFailure, "The \(programRole) '\(program)' \(reason) (set by \(programSettingKey) in the config).")
            }
            return program
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(program)" : "\(directory)/\(program)"
            if Self.isExecutableFile(candidate) { return candidate }
        }
        throw AdapterError(.agentFailure, "The \(programRole) '\(program)' was not found on PATH (\(path)); set \(programSettingKey) in the config to its full path.")
    }

    /// The working directory, checked: it must be an existing directory.
    func checkWorkingDirectory() throws(AdapterError) {
        guard let directory = workingDirectory else { return }
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw AdapterError(.agentFailure, "The working directory '\(directory)' for claude is not an existing directory (it is the session's project path, or the home directory when there is none).")
        }
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The environment of this process, as a dictionary.
    static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
            }
            pointer += 1
        }
        return result
    }
}
