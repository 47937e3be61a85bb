import ArgumentParser
import Logging
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite

/// `switchboard store …`
struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the session store.",
        subcommands: [Migrate.self]
    )

    /// `switchboard store migrate --to postgres [--url URL]`
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite store of the state directory into PostgreSQL; safe to repeat.",
            discussion: """
            Copies the sessions, their event logs, queues and client message ids, and the audit log of \
            decision requests. What the database has already (the same session id, seq, queue id, \
            request id) is left as it is, so running it again copies nothing new. The database is \
            --url, else store.url of the config, else $\(StoreSettings.databaseURLVariable). Stop the \
            daemon first, or what it writes meanwhile may be missed (a second run copies it).
            """
        )

        @OptionGroup var options: ConfigOption

        @Option(help: ArgumentHelp("The kind of store to copy to (only 'postgres').", valueName: "kind"))
        var to: String

        @Option(help: ArgumentHelp("The PostgreSQL URL, postgres://user@host:port/database (default: store.url or $\(StoreSettings.databaseURLVariable)).", valueName: "url"))
        var url: String?

        func validate() throws {
            guard to == StoreSettings.Kind.postgres.rawValue else {
                throw ValidationError("--to must be 'postgres', not '\(to)' (the SQLite store in the state directory is the source).")
            }
        }

        func run() async throws {
            let config = try options.load()
            let target = try databaseURL(config)
            let source: SQLiteSessionStore
            do {
                source = try SQLiteSessionStore.open(stateDirectory: config.stateDirectory)
            } catch {
                throw CLIError(error.message)
            }
            let destination: PostgresSessionStore
            do {
                destination = try await PostgresSessionStore.open(target, options: .init(poolSize: 2))
            } catch let error as SessionStoreError {
                throw CLIError(error.message)
            }
            let report: StoreCopyReport
            do {
                report = try await StoreCopy(source: source, destination: destination).run()
            } catch {
                await destination.close()
                throw CLIError((error as? SessionStoreError)?.message ?? "The copy failed: \(error)")
            }
            await destination.close()
            print("Copied '\(source.path)' to \(target):")
            print(report.description)
        }

        /// `--url`, else the config's, else the environment's.
        private func databaseURL(_ config: SwitchboardConfig) throws -> DatabaseURL {
            if let url {
                do {
                    return try DatabaseURL(parsing: url)
                } catch {
                    throw ValidationError("--url: \(error.message)")
                }
            }
            if let url = config.store.url { return url }
            if let text = StoreSettings.environmentURL() {
                do {
                    return try DatabaseURL(parsing: text)
                } catch {
                    throw CLIError("$\(StoreSettings.databaseURLVariable): \(error.message)")
                }
            }
            throw ValidationError("Name the database with --url postgres://…, store.url in the config, or $\(StoreSettings.databaseURLVariable).")
        }
    }
}

/// How many rows of each kind a copy added, and how many were there already.
struct StoreCopyReport: CustomStringConvertible {
    /// Per kind of row, in the order printed: (name, copied, already there).
    var rows: [(name: String, copied: Int, present: Int)] = []

    mutating func add(_ name: String, copied: Int, of total: Int) {
        rows.append((name, copied, total - copied))
    }

    var description: String {
        rows.map { "  \($0.name): \($0.copied) copied, \($0.present) already there" }.joined(separator: "\n")
    }
}

/// Copies everything an SQLite store holds into a PostgreSQL store, keeping what is there.
struct StoreCopy {
    let source: SQLiteSessionStore
    let destination: PostgresSessionStore
    /// Frames are read and written this many at a time.
    static let framePage = 5_000
    static let sessionBatch = 1_000

    func run() async throws -> StoreCopyReport {
        var report = StoreCopyReport()
        let sessions = try await source.list(workspace: nil)
        var copied = 0
        for start in stride(from: 0, to: sessions.count, by: Self.sessionBatch) {
            copied += try await destination.insertAll(Array(sessions[start..<min(start + Self.sessionBatch, sessions.count)]))
        }
        report.add("sessions", copied: copied, of: sessions.count)

        // Every session with a log, including logs whose session record is gone.
        var frames = 0, framesCopied = 0
        for session in try await source.sessionsWithFrames(before: Int64.max) {
            var after = Int.min
            while true {
                let page = try await source.frames(session, after: after, limit: Self.framePage)
                guard let last = page.last else { break }
                frames += page.count
                framesCopied += try await destination.copyFrames(page)
                after = last.seq
            }
        }
        report.add("frames", copied: framesCopied, of: frames)

        let queued = try await source.queuedMessages(nil)
        copied = 0
        for message in queued {
            if try await destination.copyQueuedMessage(message) { copied += 1 }
        }
        report.add("queued messages", copied: copied, of: queued.count)

        let clientMessages = try await source.allClientMessages()
        copied = 0
        for record in clientMessages {
            if try await destination.copyClientMessage(record) { copied += 1 }
        }
        report.add("client message ids", copied: copied, of: clientMessages.count)

        let decisions = try await source.allDecisions()
        copied = 0
        for record in decisions {
            if try await destination.copyDecision(record) { copied += 1 }
        }
        report.add("decision requests", copied: copied, of: decisions.count)
        return report
    }
}
