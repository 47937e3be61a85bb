import Foundation
import SwitchboardAdapterAPI
import SwitchboardCore

/// Asks the person at the terminal about decision requests, one at a time, for `chat` and
/// `attach`: prints the prompt (`Allow Bash: touch notes.txt? [y]es / [s]ession / [n]o`),
/// reads the answer from the lines the command hands it, and passes it on.
actor TerminalDecisions {
    /// A request as the terminal shows it.
    struct Request: Sendable {
        var requestId: String
        var kind: DecisionRequest.Kind
        var toolName: String
        var summary: String
        var options: [String]
        var questions: [DecisionRequest.Question]

        init(_ pending: PendingDecision) {
            requestId = pending.requestId
            kind = pending.request.kind
            toolName = pending.request.toolName
            summary = pending.request.summary
            options = pending.request.options
            questions = pending.request.questions
        }

        /// From a `permission_request` or `question` frame.
        init?(frame: JSONValue) {
            guard let id = frame["requestId"]?.stringValue else { return nil }
            requestId = id
            kind = frame["type"]?.stringValue == "question" ? .question : .permission
            toolName = frame["toolName"]?.stringValue ?? "tool"
            summary = frame["content"]?.stringValue ?? ""
            options = frame["options"]?.arrayValue?.compactMap(\.stringValue) ?? [Decision.allow, Decision.deny]
            questions = (frame["questions"]?.arrayValue ?? []).compactMap { try? DecisionRequest.Question(json: $0) }
        }
    }

    /// What the person decided.
    struct Reply: Sendable, Equatable {
        var decision: String
        var message: String?
        var answers: [String: String] = [:]

        /// The live-chat frame that gives this answer to request `requestId`:
        /// `permission_response`, or `question_response` when it carries answers.
        func frame(for requestId: String) -> JSONValue {
            var frame: [String: JSONValue] = ["type": .string("permission_response"), "requestId": .string(requestId), "decision": .string(decision)]
            if let message { frame["message"] = .string(message) }
            if !answers.isEmpty {
                frame["type"] = .string("question_response")
                frame["answers"] = .object(answers.mapValues(JSONValue.string))
            }
            return .object(frame)
        }
    }

    private let printer: TerminalPrinter
    private let send: @Sendable (String, Reply) async -> Void
    private var queue: [Request] = []
    private var current: Request?
    private var answers: [String: String] = [:]
    private var endOfInput = false
    /// Lines typed before any prompt, kept as answers (for `chat`, whose input is only answers).
    private let keepsEarlyLines: Bool
    private var early: [String] = []

    /// `send` passes a reply on (to the manager, or to the daemon). With `keepsEarlyLines`,
    /// lines offered while nothing is asked answer the next prompts.
    init(printer: TerminalPrinter, keepsEarlyLines: Bool = false, send: @escaping @Sendable (String, Reply) async -> Void) {
        self.printer = printer
        self.keepsEarlyLines = keepsEarlyLines
        self.send = send
    }

    /// Whether a prompt waits for a line.
    var isAsking: Bool { current != nil }

    /// A new request: asked now, or after the ones before it.
    func requested(_ request: Request) async {
        guard current?.requestId != request.requestId, !queue.contains(where: { $0.requestId == request.requestId }) else { return }
        if endOfInput {
            await send(request.requestId, Reply(decision: Decision.deny, message: "Nobody was at the terminal to decide."))
            return
        }
        queue.append(request)
        if current == nil { await next() }
    }

    /// A request was closed (decided elsewhere, withdrawn, timed out): stop asking about it.
    func resolved(_ requestId: String, how: String) async {
        queue.removeAll { $0.requestId == requestId }
        guard current?.requestId == requestId else { return }
        printer.note("request \(requestId) was closed: \(how)")
        current = nil
        await next()
    }

    /// Offers a line the person typed; returns false when no prompt waits for it.
    func take(_ line: String) async -> Bool {
        guard let request = current else {
            guard keepsEarlyLines else { return false }
            early.append(line)
            return true
        }
        guard let reply = parse(line, for: request) else {
            printer.prompt(promptText(for: request))
            return true
        }
        if reply.decision == Decision.answer && answers.count < request.questions.count {
            printer.prompt(promptText(for: request))
            return true
        }
        current = nil
        answers = [:]
        await send(request.requestId, reply)
        await next()
        return true
    }

    /// Standard input ended: what is asked or queued (and what comes later) is denied.
    func inputEnded() async {
        endOfInput = true
        while current != nil, !early.isEmpty { _ = await take(early.removeFirst()) }
        let open = (current.map { [$0] } ?? []) + queue
        current = nil
        queue = []
        for request in open {
            await send(request.requestId, Reply(decision: Decision.deny, message: "Nobody was at the terminal to decide."))
        }
    }

    private func next() async {
        guard current == nil, !queue.isEmpty else { return }
        let request = queue.removeFirst()
        current = request
        answers = [:]
        printer.prompt(promptText(for: request))
        while current?.requestId == request.requestId, !early.isEmpty {
            _ = await take(early.removeFirst())
        }
    }

    /// `Allow Bash: touch notes.txt? [y]es / [s]ession / [n]o`, or the next question.
    private func promptText(for request: Request) -> String {
        switch request.kind {
        case .permission:
            var choices = ["[y]es"]
            if request.options.contains(Decision.allowSession) { choices.append("[s]ession") }
            choices.append("[n]o")
            return "Allow \(request.toolName): \(request.summary)? \(choices.joined(separator: " / ")) "
        case .question:
            guard answers.count < request.questions.count else { return "" }
            let question = request.questions[answers.count]
            var text = "? \(question.question)\(question.header.map { " (\($0))" } ?? "")\n"
            for (index, option) in question.options.enumerated() {
                text += "  \(index + 1)) \(option.label)\(option.description.map { " — \($0)" } ?? "")\n"
            }
            let several = question.multiSelect ? "numbers separated by commas" : "a number"
            return text + "Answer (\(several), or your own words; empty declines): "
        }
    }

    /// The reply a line means, or `nil` to ask again.
    private func parse(_ line: String, for request: Request) -> Reply? {
        let text = line.trimmingCharacters(in: .whitespaces)
        switch request.kind {
        case .permission:
            let word = text.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            switch word {
            case "y", "yes": return Reply(decision: Decision.allow)
            case "s" where request.options.contains(Decision.allowSession), "session" where request.options.contains(Decision.allowSession):
                return Reply(decision: Decision.allowSession)
            case "n", "no":
                let reason = text.split(separator: ":", maxSplits: 1).dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
                return Reply(decision: Decision.deny, message: reason.flatMap { $0.isEmpty ? nil : $0 })
            default: return nil
            }
        case .question:
            if text.isEmpty { return Reply(decision: Decision.deny, message: "The person declined to answer.") }
            let question = request.questions[answers.count]
            let numbers = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            var answer = text
            if !numbers.isEmpty, numbers.allSatisfy({ $0 != nil && (1...question.options.count).contains($0!) }),
               question.multiSelect || numbers.count == 1 {
                answer = numbers.map { question.options[$0! - 1].label }.joined(separator: ", ")
            }
            answers[question.question] = answer
            return Reply(decision: Decision.answer, answers: answers)
        }
    }
}

/// The lines of standard input, read on a thread of their own (a blocking read must not hold
/// a thread of Swift's cooperative pool); the stream ends at end of input.
enum StandardInputLines {
    static func stream() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { continuation.yield(line) }
            continuation.finish()
        }
        thread.start()
        return stream
    }
}
