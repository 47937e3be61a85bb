import ArgumentParser
import Foundation
import NIOHTTP1
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardSQLite

/// `switchboard sessions …`
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show and delete sessions (through the running daemon, else from the store).",
        subcommands: [List.self, Show.self, Delete.self]
    )

    /// Runs `body` against the daemon; when none is running, against the store directly.
    static func withSource<T>(
        _ config: SwitchboardConfig,
        daemon: (DaemonClient) async throws -> T,
        store: (SQLiteSessionStore) async throws -> T
    ) async throws -> T {
        do {
            return try await daemon(DaemonClient(config: config))
        } catch is DaemonClient.Unreachable {
            FileHandle.standardError.write(Data("note: no daemon answers at \(DaemonClient(config: config).baseURL); using the session store directly\n".utf8))
            let opened: SQLiteSessionStore
            do {
                opened = try SQLiteSessionStore.open(stateDirectory: config.stateDirectory)
            } catch {
                throw CLIError(error.message)
            }
            return try await store(opened)
        }
    }

    static func storedJSON(_ r: SessionRecord) -> JSONValue {
        func time(_ ms: Int64) -> JSONValue { .string(Timestamp.format(seconds: Int(ms / 1000), milliseconds: Int(ms % 1000))) }
        return .object([
            "sessionId": .string(r.id), "workspaceName": .string(r.workspaceName), "agentType": .string(r.agentType),
            "agentSessionId": r.agentSessionId.map(JSONValue.string) ?? .null, "projectPath": r.projectPath.map(JSONValue.string) ?? .null,
            "model": r.model.map(JSONValue.string) ?? .null, "status": .string("stored"), "live": .bool(false),
            "createdAt": time(r.createdAt), "lastActivity": time(r.lastActivity),
        ])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, newest activity first.")

        @OptionGroup var options: ConfigOption
        @Option(help: "Only this workspace's sessions.") var workspace: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try options.load()
            let query = workspace.map { "?workspace=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
            let rows = try await Sessions.withSource(config) { daemon in
                try await daemon.request(.GET, "/v1/sessions\(query)").body.arrayValue ?? []
            } store: { store in
                try await store.list(workspace: workspace).map(Sessions.storedJSON)
            }
            if json {
                print(JSONValue.array(rows).prettyText)
                return
            }
            guard !rows.isEmpty else {
                print("No sessions.")
                return
            }
            let header = ["SESSION", "WORKSPACE", "AGENT", "STATUS", "LAST ACTIVITY", "AGENT SESSION"]
            let table = rows.map { row in
                ["sessionId", "workspaceName", "agentType", "status", "lastActivity", "agentSessionId"].map { row[$0]?.stringValue ?? "-" }
            }
            print(Table.render(header: header, rows: table))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one session.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The session id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try options.load()
            let value = try await Sessions.withSource(config) { daemon in
                try await daemon.request(.GET, "/v1/sessions/\(id)").body
            } store: { store in
                guard let record = try await store.get(id) else { throw CLIError("Session not found: \(id)") }
                return Sessions.storedJSON(record)
            }
            if json {
                print(value.prettyText)
            } else {
                for key in ["sessionId", "workspaceName", "agentType", "status", "agentSessionId", "model", "projectPath", "createdAt", "lastActivity"] {
                    let text: String
                    switch value[key] {
                    case .string(let s)?: text = s
                    case nil, .null?: text = "-"
                    case let other?: text = other.jsonText
                    }
                    print("\(key.padding(toLength: 16, withPad: " ", startingAt: 0)) \(text)")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a session if it is live and delete its record.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The session id.") var id: String

        func run() async throws {
            let config = try options.load()
            try await Sessions.withSource(config) { daemon in
                _ = try await daemon.request(.DELETE, "/v1/sessions/\(id)")
            } store: { store in
                guard try await store.get(id) != nil else { throw CLIError("Session not found: \(id)") }
                try await store.delete(id)
            }
            print("Deleted session \(id).")
        }
    }
}

/// Plain column-aligned tables.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
