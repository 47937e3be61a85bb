import ArgumentParser
import SwitchboardCore

/// The `switchboard` command.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Runs AI coding-agent sessions (Claude Code, OpenCode, Codex, …) behind one session manager.",
        subcommands: [Serve.self, Chat.self, Agents.self, Sessions.self, Config.self, ImportPerry.self]
    )
}

/// The `--config` option every command takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file (JSON). Without one, the plugins next to the executable are used.", valueName: "file"))
    var config: String?

    /// The configuration: the file's, or the defaults.
    func load() throws -> SwitchboardConfig {
        let bundled = FilePaths.executableDirectory()
        guard let config else { return .defaults(bundledPluginDirectory: bundled) }
        do {
            return try SwitchboardConfig.load(path: config, bundledPluginDirectory: bundled)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// A user-facing failure: printed as one message, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
