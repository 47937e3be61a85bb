import ArgumentParser
import SwitchboardCore

/// The `switchboard` command.
@main
struct Switchboard: AsyncParsableCommand {
    /// This program's version.
    static let version = "0.1.0"

    /// What `--version` prints: the version, the Swift compiler that built it (Swift plugins
    /// must be built with the same one) and the plugin ABI it speaks.
    static var versionText: String {
        let abi = PluginLoader.supportedABIVersions.map(String.init).joined(separator: ", ")
        return "switchboard \(version) (\(PluginLoader.hostToolchain), plugin ABI \(abi))"
    }

    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Runs AI coding-agent sessions (Claude Code, OpenCode, Codex, …) behind one session manager.",
        version: versionText,
        subcommands: [Serve.self, Chat.self, Attach.self, Requests.self, Agents.self, Sessions.self, WebCommand.self, Config.self, Store.self, Cluster.self, ImportPerry.self]
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
