import ArgumentParser
import SwitchboardCore

/// `switchboard config …`
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with config files.",
        subcommands: [Validate.self]
    )

    /// `switchboard config validate FILE`
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a config file and print every problem with its key path."
        )

        @Argument(help: ArgumentHelp("The config file to check.", valueName: "file"))
        var file: String

        func run() throws {
            do {
                let config = try SwitchboardConfig.load(path: file, bundledPluginDirectory: FilePaths.executableDirectory())
                let types = config.agents.keys.sorted()
                // The database is named without its password; it is not contacted.
                let store = config.store.url.map { "; store: \($0), pool of \(config.store.poolSize)" } ?? ""
                print("Config '\(file)' is valid (\(types.count) agent \(types.count == 1 ? "entry" : "entries")\(types.isEmpty ? "" : ": " + types.joined(separator: ", "))\(store)).")
            } catch {
                throw CLIError(error.description)
            }
        }
    }
}
