// Writes to a session store from its own process, for the store's multi-process and
// kill-mid-write tests:
//
//     switchboard-store-stress write --db PATH --prefix P --count N [--link]
//
// Creates the records `<P>-0` … `<P>-<N-1>` (in workspace `stress-<P>`), and with `--link`
// links each to the agent session `agent-<P>-<i>`. After each record's last commit it
// prints `committed <i>` on stdout, unbuffered, so a test knows what must survive a kill.
// Exits 0 when done; on an error prints it on stderr and exits 1.

import Foundation
import SwitchboardCore
import SwitchboardSQLite

/// The parsed command line.
struct WriteCommand {
    var database: String
    var prefix: String
    var count: Int
    var link: Bool

    static let usage = "usage: switchboard-store-stress write --db PATH --prefix P --count N [--link]"

    /// Parses `write --db PATH --prefix P --count N [--link]`.
    static func parse(_ arguments: [String]) throws(UsageError) -> WriteCommand {
        guard arguments.first == "write" else { throw UsageError(message: usage) }
        var database: String?, prefix: String?, count: Int?, link = false
        var rest = arguments.dropFirst()
        while let option = rest.popFirst() {
            switch option {
            case "--link":
                link = true
            case "--db", "--prefix", "--count":
                guard let value = rest.popFirst() else { throw UsageError(message: "\(option) needs a value\n\(usage)") }
                if option == "--db" { database = value }
                if option == "--prefix" { prefix = value }
                if option == "--count" {
                    guard let n = Int(value), n >= 0 else { throw UsageError(message: "--count must be a whole number, not '\(value)'") }
                    count = n
                }
            default:
                throw UsageError(message: "unknown argument '\(option)'\n\(usage)")
            }
        }
        guard let database, let prefix, let count else { throw UsageError(message: usage) }
        return WriteCommand(database: database, prefix: prefix, count: count, link: link)
    }

    func run() async throws {
        let store = try SQLiteSessionStore(path: database)
        for i in 0..<count {
            let id = "\(prefix)-\(i)"
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await store.create(SessionRecord(
                id: id, workspaceName: "stress-\(prefix)", agentType: "stress",
                projectPath: "/work/\(prefix)", createdAt: now, lastActivity: now
            ))
            if link {
                try await store.linkAgentSession(id, agentSessionId: "agent-\(id)", at: now + 1)
            }
            try FileHandle.standardOutput.write(contentsOf: Data("committed \(i)\n".utf8))
        }
    }
}

/// A command line that cannot be used.
struct UsageError: Error {
    var message: String
}

do {
    try await WriteCommand.parse(Array(CommandLine.arguments.dropFirst())).run()
} catch let error as UsageError {
    FileHandle.standardError.write(Data("switchboard-store-stress: \(error.message)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("switchboard-store-stress: \(error)\n".utf8))
    exit(1)
}
