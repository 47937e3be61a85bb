import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOHTTP1
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import UnixSignals

/// `chat` while a daemon runs for the same configuration: the turn runs in the daemon, over
/// its live-chat WebSocket, so the daemon stays the one owner of the session.
struct DaemonChat {
    let daemon: DaemonClient
    let workspace: String
    let agent: String?
    let model: String?
    let projectPath: String?
    let session: String?
    let text: String

    /// What the turn is at, as the frames tell it.
    private struct Progress {
        var sessionId: String?
        var clientMessageId: String
        /// The `seq` of this turn's `user` frame, once known; earlier frames are not shown.
        var userSeq: Int?
        /// The queue id, when the message waits behind others.
        var queueId: String?
        var outcome: SessionStatus?
        var failure: String?
    }

    private final class ProgressBox: Sendable {
        let state: Mutex<Progress>
        init(_ progress: Progress) { state = Mutex(progress) }
    }

    /// Runs the turn; returns the session id and how the turn ended.
    func run() async throws -> (sessionId: String, outcome: SessionStatus) {
        var workspace = self.workspace
        var sessionId = session
        if let session {
            let info: JSONValue
            do {
                info = try await daemon.request(.GET, "/v1/sessions/\(Self.pathComponent(session))").body
            } catch let error as CLIError {
                throw CLIError("No session '\(session)' is live or stored: \(error.description)")
            }
            sessionId = info["sessionId"]?.stringValue ?? session
            workspace = info["workspaceName"]?.stringValue ?? workspace
        } else if agent == nil {
            throw CLIError("Name the agent with --agent (see `switchboard agents`), or continue a session with --session.")
        }
        var connect: [String: JSONValue] = ["type": .string("connect")]
        if let sessionId { connect["sessionId"] = .string(sessionId) }
        if let agent { connect["agentType"] = .string(agent) }
        if let model { connect["model"] = .string(model) }
        if let projectPath { connect["projectPath"] = .string(projectPath) }

        let progress = ProgressBox(Progress(clientMessageId: "chat-\(getpid())-\(Timestamp.epochMilliseconds())"))
        let printer = TerminalPrinter()
        let (outgoing, out) = AsyncStream.makeStream(of: JSONValue.self)
        out.yield(.object(connect))
        let decisions = TerminalDecisions(printer: printer, keepsEarlyLines: true) { requestId, reply in
            var frame: [String: JSONValue] = ["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string(reply.decision)]
            if let message = reply.message { frame["message"] = .string(message) }
            if !reply.answers.isEmpty {
                frame["type"] = .string("question_response")
                frame["answers"] = .object(reply.answers.mapValues(JSONValue.string))
            }
            out.yield(.object(frame))
        }
        let lines = StandardInputLines.stream()
        let signals = await UnixSignalsSequence(trapping: .sigint)
        var headers = HTTPFields()
        if let token = daemon.token { headers[.authorization] = "Bearer \(token)" }
        let logger = Logger(label: "switchboard.chat") { _ in SwiftLogNoOpLogHandler() }
        let text = self.text
        _ = try await WebSocketClient.connect(
            url: daemon.liveURL(workspace: workspace),
            configuration: .init(maxFrameSize: 1 << 24, additionalHeaders: headers),
            logger: logger
        ) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await frame in outgoing { try await outbound.write(.text(frame.jsonText)) }
                    return false
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        guard case .text(let wire) = message, let frame = try? JSONValue(parsing: wire) else { continue }
                        let next = Self.take(frame, progress: progress, text: text)
                        if let send = next.send { out.yield(send) }
                        if next.show { await Attach.show(frame, printer: printer, decisions: decisions) }
                        if frame["type"]?.stringValue == "message_accepted", frame["seq"] == .null, let position = frame["position"]?.intValue {
                            printer.note("queued behind the running turn (position \(position))")
                        }
                        if next.done { break }
                    }
                    out.finish()
                    return true
                }
                group.addTask {
                    for await line in lines { _ = await decisions.take(line) }
                    await decisions.inputEnded()
                    return false
                }
                group.addTask {
                    for await _ in signals {
                        printer.note("interrupting…")
                        out.yield(.object(["type": .string("interrupt")]))
                    }
                    return false
                }
                // The turn's end (or the daemon closing) ends the connection; the end of
                // standard input does not (requests are then denied, the turn goes on).
                while let readerEnded = try await group.next(), !readerEnded {}
                group.cancelAll()
            }
        }
        printer.finish()
        let end = progress.state.withLock { $0 }
        if let failure = end.failure { throw CLIError(failure) }
        guard let id = end.sessionId, let outcome = end.outcome else {
            throw CLIError("The daemon closed the connection before the turn ended.")
        }
        return (id, outcome)
    }

    /// What one frame from the daemon means for the turn: a frame to send, whether to show
    /// it, whether the turn is over.
    private static func take(_ frame: JSONValue, progress: ProgressBox, text: String) -> (send: JSONValue?, show: Bool, done: Bool) {
        progress.state.withLock { p -> (send: JSONValue?, show: Bool, done: Bool) in
            let seq = frame["seq"]?.intValue
            switch frame["type"]?.stringValue ?? "" {
            case "session_joined", "session_started":
                guard p.sessionId == nil, let id = frame["sessionId"]?.stringValue else { return (nil, false, false) }
                p.sessionId = id
                return (.object([
                    "type": .string("message"), "content": .string(text), "clientMessageId": .string(p.clientMessageId),
                ]), false, false)
            case "message_accepted":
                if frame["duplicate"] == .bool(false), let queued = frame["queueId"]?.stringValue {
                    p.queueId = queued
                    return (nil, false, false)
                }
                return (nil, false, false)
            case "error" where seq == nil:
                // The connection's own error (a refused message, an unknown session) before
                // the turn started ends it; the session's errors have a seq and are shown.
                if p.userSeq == nil {
                    p.failure = frame["content"]?.stringValue ?? frame["message"]?.stringValue ?? "The daemon refused the message."
                    return (nil, false, true)
                }
                return (nil, true, false)
            case "user":
                // This message's own frame (also when it was queued first) starts the turn.
                if p.userSeq == nil, let seq, frame["clientMessageId"]?.stringValue == p.clientMessageId { p.userSeq = seq }
                return (nil, false, false)
            default:
                guard let start = p.userSeq, let seq, seq > start else { return (nil, false, false) }
                if frame["type"]?.stringValue == "system", let content = frame["content"]?.stringValue,
                   let raw = (try? JSONValue(parsing: content))?["status"]?.stringValue, let status = SessionStatus(rawValue: raw),
                   status != .running {
                    p.outcome = status
                    return (nil, false, true)
                }
                return (nil, true, false)
            }
        }
    }

    static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? id
    }
}
