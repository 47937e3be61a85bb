import ArgumentParser
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardCore
import UnixSignals

/// `switchboard chat`: one turn with an agent, streamed to the terminal — through the daemon
/// when one answers for this configuration, else in this process.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send one message to an agent and stream the reply (Ctrl-C interrupts the turn).",
        discussion: "Prints the session id at the end; pass it to --session to continue the conversation."
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The agent type (see `switchboard agents`); not needed with --session.") var agent: String?
    @Option(help: "The workspace; @host runs the agent on this machine.") var workspace = "@host"
    @Option(help: "The project directory the agent works in.") var projectPath: String?
    @Option(help: "The model.") var model: String?
    @Option(help: "A session to continue: our session id or the agent's.") var session: String?
    @Argument(help: "The message.") var text: String

    func run() async throws {
        let config = try options.load()
        let daemon = DaemonClient(config: config)
        if (try? await daemon.request(.GET, "/health")) != nil {
            FileHandle.standardError.write(Data("(through the daemon at \(daemon.baseURL))\n".utf8))
            let (id, outcome) = try await DaemonChat(
                daemon: daemon, workspace: workspace, agent: agent, model: model, projectPath: projectPath, session: session, text: text
            ).run()
            let configPart = options.config.map { " --config \($0)" } ?? ""
            FileHandle.standardError.write(Data("\nSession: \(id) — continue with: switchboard chat\(configPart) --session \(id) \"…\"\n".utf8))
            if outcome != .idle { throw ExitCode(1) }
            return
        }
        let logger = Logger(label: "switchboard.chat") { _ in SwiftLogNoOpLogHandler() }
        let runtime = try await Runtime.open(config: config, logger: logger)
        let manager = runtime.makeManager(allowHostWorkspace: config.allowHostWorkspace ?? true, logger: logger)
        let outcome: SessionStatus
        do {
            outcome = try await converse(manager: manager)
        } catch {
            await manager.disposeAll()
            await runtime.close()
            throw error
        }
        await manager.disposeAll()
        await runtime.close()
        if outcome != .idle { throw ExitCode(1) }
    }

    private func converse(manager: SessionManager) async throws -> SessionStatus {
        let id: String
        do {
            if let session {
                guard let found = try await manager.find(session, projectPath: projectPath) else {
                    throw CLIError("No session '\(session)' is live or stored.")
                }
                id = found.id
                if let model, model != found.model { try await manager.setModel(id, model: model) }
            } else {
                guard let agent else { throw CLIError("Name the agent with --agent (see `switchboard agents`), or continue a session with --session.") }
                id = try await manager.start(SessionStartOptions(
                    workspaceName: workspace, agentType: agent, model: model, projectPath: projectPath))
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(Self.describe(error))
        }
        let printer = TerminalPrinter()
        let ended = AsyncStream<SessionStatus>.makeStream()
        // A tool that needs permission, or a question, is asked here; answers come from stdin.
        let decisions = TerminalDecisions(printer: printer, keepsEarlyLines: true) { requestId, reply in
            do {
                try await manager.answer(requestId, decision: reply.decision, message: reply.message, answers: reply.answers, from: "terminal")
            } catch {
                printer.note(Self.describe(error))
            }
        }
        let lines = StandardInputLines.stream()
        let reader = Task {
            for await line in lines { _ = await decisions.take(line) }
            await decisions.inputEnded()
        }
        defer { reader.cancel() }
        // Only what this turn produces: skip what the session already had.
        let lastSeq = await manager.messages(id).last?.seq
        _ = await manager.connect(id, client: SessionClient(send: { frame in
            switch frame.decision {
            case .requested(let pending)?: await decisions.requested(TerminalDecisions.Request(pending))
            case .resolved(let resolution)?:
                await decisions.resolved(resolution.requestId, how: "\(resolution.decision) by \(resolution.source)")
            case nil: break
            }
            if let end = printer.show(frame) { ended.continuation.yield(end) }
        }), resumeFrom: lastSeq ?? -1)

        let signals = await UnixSignalsSequence(trapping: .sigint)
        let interrupter = Task {
            for await _ in signals {
                printer.note("interrupting…")
                await manager.interrupt(id)
            }
        }
        defer { interrupter.cancel() }

        do {
            try await manager.send(id, text: text)
        } catch {
            throw CLIError(Self.describe(error))
        }
        var outcome = SessionStatus.idle
        for await status in ended.stream {
            outcome = status
            break
        }
        printer.finish()
        let agentId = await manager.info(id)?.agentSessionId.map { " (agent session \($0))" } ?? ""
        let configPart = options.config.map { " --config \($0)" } ?? ""
        FileHandle.standardError.write(Data("\nSession: \(id)\(agentId) — continue with: switchboard chat\(configPart) --session \(id) \"…\"\n".utf8))
        return outcome
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as SessionError: e.message
        case let e as AdapterError: e.message
        case let e as RegistryError: e.message
        case let e as SessionStoreError: e.message
        default: String(describing: error)
        }
    }
}

/// Writes frames to the terminal as they arrive: reply text inline, tool calls compactly.
final class TerminalPrinter: Sendable {
    private let state = Mutex(false)  // whether the cursor is mid-line

    /// Prints one frame; returns the status when the turn has ended.
    func show(_ frame: SessionFrame) -> SessionStatus? {
        if case .resolved(let resolution)? = frame.decision {
            line(Self.resolutionLine(decision: resolution.decision, by: resolution.source.description, message: resolution.message))
            return nil
        }
        if frame.decision != nil { return nil }  // the prompt shows it
        if let notice = frame.notice {
            switch notice {
            case .status(let status) where status != .running: return status
            case .framesDropped: line("[\(notice.wireText)]")
            case .status, .agentSessionId, .connected: break
            }
            return nil
        }
        show(frame.message)
        return nil
    }

    /// Prints one chat message.
    func show(_ m: ChatMessage) {
        switch m.type {
        case .assistant:
            write(m.content, midLine: true)
        case .toolUse:
            line("⚙ \(m.toolName ?? "tool"): \(Self.compact(m.content, limit: 100))")
        case .toolResult:
            let lines = m.content.split(separator: "\n", omittingEmptySubsequences: false)
            let more = lines.count > 1 ? " (+\(lines.count - 1) lines)" : ""
            let flag = m.extra["isError"] == .bool(true) ? " [error]" : ""
            line("  ↳ \(Self.compact(String(lines.first ?? ""), limit: 100))\(more)\(flag)")
        case .error:
            line("error: \(m.content)", toError: true)
        case .system:
            line("[\(m.content)]")
        case .user, .done:
            break
        }
    }

    /// `  ✓ allow (by client-2)`, `  ✗ deny (by rule #3): Never.`
    static func resolutionLine(decision: String, by: String, message: String?) -> String {
        let mark = [Decision.allow, Decision.allowSession, Decision.answer].contains(decision) ? "✓" : "✗"
        return "  \(mark) \(decision) (by \(by))\(message.map { ": \($0)" } ?? "")"
    }

    func note(_ text: String) { line("[\(text)]", toError: true) }

    /// Prints one line of its own.
    func say(_ text: String) { line(text) }

    /// Prints a question; on a terminal without a newline after it (the answer is typed on
    /// the same line), else as a whole line (so a program reading the output sees it).
    func prompt(_ text: String) {
        if state.withLock({ $0 }) { write("\n", midLine: false) }
        if isatty(STDOUT_FILENO) == 1 {
            write(text, midLine: true)
        } else {
            write(text + "\n", midLine: false)
        }
    }

    func finish() {
        if state.withLock({ $0 }) { write("\n", midLine: false) }
    }

    private func line(_ text: String, toError: Bool = false) {
        if state.withLock({ $0 }) { write("\n", midLine: false) }
        if toError {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            write(text + "\n", midLine: false)
        }
    }

    private func write(_ text: String, midLine: Bool) {
        FileHandle.standardOutput.write(Data(text.utf8))
        state.withLock { $0 = midLine && !text.hasSuffix("\n") }
    }

    static func compact(_ text: String, limit: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}
