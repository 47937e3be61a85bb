import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOHTTP1
import NIOWebSocket
import SwitchboardAdapterAPI
import SwitchboardCore

/// `switchboard attach SESSION`: an interactive terminal client of the running daemon.
///
/// It shows the session's frames as they come (what the session buffered first), sends each
/// line typed as a message, and asks about decision requests as they arrive —
/// `Allow Bash: touch notes.txt? [y]es / [s]ession / [n]o` — answering with the next line.
/// `/interrupt` interrupts the turn, `/quit` (or end of input) leaves; the session lives on.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach to a session of the running daemon: watch it, send messages, answer its requests.",
        discussion: "Lines you type are sent as messages; /interrupt interrupts the turn; /quit or end of input detaches."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The session: our session id or the agent's.") var session: String
    @Option(help: "Replay only the frames after this seq (default: everything the session keeps).") var resumeFrom: Int?

    func run() async throws {
        let config = try options.load()
        let daemon = DaemonClient(config: config)
        let info: JSONValue
        do {
            info = try await daemon.request(.GET, "/v1/sessions/\(session.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? session)").body
        } catch is DaemonClient.Unreachable {
            throw CLIError("No daemon answers at \(daemon.baseURL): `attach` needs a running `switchboard serve`.")
        }
        guard let sessionId = info["sessionId"]?.stringValue, let workspace = info["workspaceName"]?.stringValue else {
            throw CLIError("The daemon's answer about session '\(session)' has no session id and workspace.")
        }
        var headers = HTTPFields()
        if let token = daemon.token { headers[.authorization] = "Bearer \(token)" }
        let printer = TerminalPrinter()
        let (outgoing, out) = AsyncStream.makeStream(of: JSONValue.self)
        let decisions = TerminalDecisions(printer: printer) { requestId, reply in
            out.yield(reply.frame(for: requestId))
        }
        var connect: [String: JSONValue] = ["type": .string("connect"), "sessionId": .string(sessionId)]
        if let resumeFrom { connect["resumeFromId"] = .int(resumeFrom) }
        out.yield(.object(connect))
        let lines = StandardInputLines.stream()
        let logger = Logger(label: "switchboard.attach") { _ in SwiftLogNoOpLogHandler() }
        FileHandle.standardError.write(Data("Attached to \(sessionId) (\(workspace)). Type a message; /interrupt, /quit.\n".utf8))
        let close = try await WebSocketClient.connect(
            url: daemon.liveURL(workspace: workspace),
            configuration: .init(maxFrameSize: 1 << 24, additionalHeaders: headers),
            logger: logger
        ) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await frame in outgoing { try await outbound.write(.text(frame.jsonText)) }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        guard case .text(let text) = message, let frame = try? JSONValue(parsing: text) else { continue }
                        await Self.show(frame, printer: printer, decisions: decisions)
                    }
                }
                group.addTask {
                    for await line in lines {
                        if await decisions.take(line) { continue }
                        switch line.trimmingCharacters(in: .whitespaces) {
                        case "": continue
                        case "/quit": out.finish(); return
                        case "/interrupt": out.yield(.object(["type": .string("interrupt")]))
                        default: out.yield(.object(["type": .string("message"), "content": .string(line)]))
                        }
                    }
                    await decisions.inputEnded()
                    out.finish()
                }
                // Leaving (end of input, /quit) or the daemon closing ends the connection.
                try await group.next()
                group.cancelAll()
            }
        }
        printer.finish()
        if let close, close.closeCode != .normalClosure, close.closeCode != .goingAway {
            throw CLIError("The daemon closed the connection: \(close.reason ?? "\(close.closeCode)")")
        }
    }

    /// Prints one frame from the daemon, handing decision frames to the prompt.
    static func show(_ frame: JSONValue, printer: TerminalPrinter, decisions: TerminalDecisions) async {
        let type = frame["type"]?.stringValue ?? ""
        switch type {
        case "permission_request", "question":
            if let request = TerminalDecisions.Request(frame: frame) { await decisions.requested(request) }
        case "permission_resolved", "question_resolved":
            let by = frame["decider"]?.stringValue ?? frame["by"]?.stringValue ?? "?"
            let decision = frame["decision"]?.stringValue ?? "?"
            await decisions.resolved(frame["requestId"]?.stringValue ?? "", how: "\(decision) by \(by)")
            printer.say(TerminalPrinter.resolutionLine(decision: decision, by: by, message: frame["message"]?.stringValue))
        case "connected", "session_started", "message_accepted":
            break
        case "session_joined":
            printer.note("joined \(frame["sessionId"]?.stringValue ?? "?") (status: \(frame["status"]?.stringValue ?? "?"))")
        default:
            guard let message = try? ChatMessage(jsonText: frame.jsonText) else { return }
            if message.type == .system, let status = (try? JSONValue(parsing: message.content))?["status"]?.stringValue {
                if status != "running" { printer.note(status) }
                return
            }
            if message.type == .user { printer.show(ChatMessage(type: .system, content: "> \(message.content)")); return }
            printer.show(message)
        }
    }
}
