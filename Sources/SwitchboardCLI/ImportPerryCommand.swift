import ArgumentParser
import SwitchboardCore
import SwitchboardSQLite

/// `switchboard import-perry FILE`
struct ImportPerry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-perry",
        abstract: "Import the original system's session registry (session-registry.json) into the store; safe to repeat."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The registry file.") var file: String

    func run() async throws {
        let config = try options.load()
        let store: SQLiteSessionStore
        do {
            store = try SQLiteSessionStore.open(stateDirectory: config.stateDirectory)
        } catch {
            throw CLIError(error.message)
        }
        let report: PerryImportReport
        do {
            report = try await PerryRegistryImport.importFile(file, into: store)
        } catch let error as SessionStoreError {
            throw CLIError(error.message)
        }
        print(report.description)
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
