import ArgumentParser
import Foundation
import NIOHTTP1
import SwitchboardAdapterAPI
import SwitchboardCore

/// `switchboard requests list|allow|deny|answer`: the daemon's decision requests, for scripts.
struct Requests: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and answer the agents' permission requests and questions (through the running daemon).",
        subcommands: [List.self, Allow.self, Deny.self, Answer.self]
    )

    /// Runs `body` against the daemon; says plainly when none runs.
    static func withDaemon<T>(_ options: ConfigOption, _ body: (DaemonClient) async throws -> T) async throws -> T {
        let config = try options.load()
        let daemon = DaemonClient(config: config)
        do {
            return try await body(daemon)
        } catch is DaemonClient.Unreachable {
            throw CLIError("No daemon answers at \(daemon.baseURL): decision requests live in a running `switchboard serve`.")
        }
    }

    /// Posts an answer and prints the resolution.
    static func answer(_ options: ConfigOption, _ id: String, _ body: [String: JSONValue]) async throws {
        let resolution = try await withDaemon(options) { daemon in
            try await daemon.request(.POST, "/v1/requests/\(id)", body: .object(body)).body
        }
        print(TerminalPrinter.resolutionLine(
            decision: resolution["decision"]?.stringValue ?? "?",
            by: resolution["decider"]?.stringValue ?? resolution["by"]?.stringValue ?? "?",
            message: resolution["message"]?.stringValue
        ).trimmingCharacters(in: .whitespaces))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pending requests (or, with --all, the audit log).")

        @OptionGroup var options: ConfigOption
        @Option(help: "Only this session's requests.") var session: String?
        @Flag(help: "The audit log: pending, resolved and expired requests, newest first.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var query: [String] = []
            if let session { query.append("session=\(session.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? session)") }
            if all { query.append("state=all") }
            let path = "/v1/requests" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            let rows = try await Requests.withDaemon(options) { try await $0.request(.GET, path).body.arrayValue ?? [] }
            if json {
                print(JSONValue.array(rows).prettyText)
                return
            }
            if rows.isEmpty {
                print(all ? "No decision requests recorded." : "Nothing waits for a decision.")
                return
            }
            for row in rows {
                let id = row["requestId"]?.stringValue ?? "?"
                let state = row["state"]?.stringValue ?? "pending"
                let tool = row["toolName"]?.stringValue ?? "?"
                let what = TerminalPrinter.compact(row["content"]?.stringValue ?? "", limit: 80)
                var line = "\(id)  \(state)  \(row["sessionId"]?.stringValue ?? "?")  \(tool): \(what)"
                if let decision = row["decision"]?.stringValue {
                    line += "  → \(decision) by \(row["decider"]?.stringValue ?? row["by"]?.stringValue ?? "?")"
                } else if let options = row["options"]?.arrayValue {
                    line += "  [\(options.compactMap(\.stringValue).joined(separator: "/"))]"
                }
                print(line)
            }
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allow a pending request.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The request id (see `switchboard requests list`).") var id: String
        @Flag(help: "Allow it for the rest of the session (when the agent offers that).") var session = false

        func run() async throws {
            try await Requests.answer(options, id, ["decision": .string(session ? Decision.allowSession : Decision.allow)])
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a pending request (or decline a question).")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why: sent to the agent.") var message: String?

        func run() async throws {
            var body: [String: JSONValue] = ["decision": .string(Decision.deny)]
            if let message { body["message"] = .string(message) }
            try await Requests.answer(options, id, body)
        }
    }

    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer a pending question.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "The request id.") var id: String
        @Argument(help: "The answer to its (first) question.") var text: String

        func run() async throws {
            try await Requests.answer(options, id, ["answer": .string(text)])
        }
    }
}
