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
        @Flag(help: "Also print the conversation: the session's event log, oldest first.") var history = false

        func run() async throws {
            let config = try options.load()
            if history { return try await printHistory(config) }
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

        /// Pages the event log (through the daemon, else the store) and prints each frame:
        /// as JSON lines with `--json`, else as the terminal shows a conversation.
        private func printHistory(_ config: SwitchboardConfig) async throws {
            let printer = TerminalPrinter()
            var after = -1
            while true {
                let page = try await Sessions.withSource(config) { daemon in
                    try await daemon.request(.GET, "/v1/sessions/\(id)/messages?after=\(after)&limit=\(Sessions.historyPage)").body.arrayValue ?? []
                } store: { store in
                    var found = try await store.get(id)
                    if found == nil { found = try await store.find(agentSessionId: id) }
                    guard let record = found else { throw CLIError("Session not found: \(id)") }
                    return try await store.frames(record.id, after: after, limit: Sessions.historyPage).map { row in
                        (try? JSONValue(parsing: row.json)) ?? .object(["seq": .int(row.seq), "type": .string("system"), "content": .string("(frame \(row.seq) could not be read)")])
                    }
                }
                for frame in page {
                    if json { print(frame.jsonText) } else { Sessions.showHistoryFrame(frame, printer: printer) }
                }
                guard page.count == Sessions.historyPage, let last = page.last?["seq"]?.intValue, last > after else { break }
                after = last
            }
            printer.finish()
        }
    }

    /// Frames per request when printing a history.
    static let historyPage = 1000

    /// One frame of a history as the terminal shows a conversation: the user's messages with
    /// `>`, the agent's text, tools and decisions compactly, status changes left out.
    static func showHistoryFrame(_ frame: JSONValue, printer: TerminalPrinter) {
        switch frame["type"]?.stringValue ?? "" {
        case "permission_request", "question":
            printer.say("? \(frame["toolName"]?.stringValue ?? "request"): \(TerminalPrinter.compact(frame["content"]?.stringValue ?? "", limit: 100))")
        case "permission_resolved", "question_resolved":
            let by = frame["decider"]?.stringValue ?? frame["by"]?.stringValue ?? "?"
            printer.say(TerminalPrinter.resolutionLine(decision: frame["decision"]?.stringValue ?? "?", by: by, message: frame["message"]?.stringValue))
        case "queued":
            printer.say("[queued \(frame["queueId"]?.stringValue ?? "?"): \(TerminalPrinter.compact(frame["content"]?.stringValue ?? "", limit: 80))]")
        case "queue_cancelled":
            printer.say("[queued message \(frame["queueId"]?.stringValue ?? "?") cancelled]")
        default:
            guard let message = try? ChatMessage(jsonText: frame.jsonText) else { return }
            if message.type == .system, (try? JSONValue(parsing: message.content))?.objectValue != nil { return }
            if message.type == .user {
                printer.say("> \(message.content)")
            } else {
                printer.show(message)
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
