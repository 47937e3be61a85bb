import SwitchboardAdapterAPI

extension ConformanceRunner {
    // MARK: decisions

    func decisions() async throws -> String {
        var verified: [String] = []
        // An answer for a request nobody asked: an error, the adapter unharmed.
        try await withAdapter(inputs.settings) { subject in
            let adapter = subject.adapter
            let bogus = DecisionAnswer(id: "conformance-unknown-request", decision: Decision.allow)
            guard let refusal = try await outcome(of: "answer for an unknown request", { try await adapter.answer(bogus) }) else {
                throw CheckFailure("An answer for a request the adapter never made was accepted.")
            }
            if !isPlugin, let error = refusal as? AdapterError, error.code != .unknownRequest {
                throw CheckFailure("An answer for an unknown request was refused with code \(error.code), not unknownRequest: \(error.message)")
            }
            verified.append("an answer for an unknown request was refused (\"\(Self.shorten(Self.describe(refusal)))\")")
            let end = try await turn(subject, inputs.prompt)
            verified.append("the next turn ended in \(end.summary)")
        }
        guard let asking = inputs.askingTurn else {
            return verified.joined(separator: "; ").prefix(1).uppercased() + verified.joined(separator: "; ").dropFirst()
                + ". No ConformanceInputs.askingTurn was given, so answering and withdrawing a request were not exercised."
        }
        let settings = asking.settings ?? inputs.settings
        // Answered once: the turn goes on; a second answer is refused.
        try await withAdapter(settings) { subject in
            let adapter = subject.adapter
            let mark = subject.log.events.count
            try await call("sendMessage") { try await adapter.sendMessage(asking.prompt) }
            let request = try await awaitRequest(subject, after: mark)
            let decision = request.options.contains(Decision.allow) ? Decision.allow : request.options[0]
            let answer = DecisionAnswer(id: request.id, decision: decision)
            try await call("answer(\(request.id), \(decision))") { try await adapter.answer(answer) }
            let end = try await waitForTurnEnd(subject, after: mark, context: "After the answer")
            guard let again = try await outcome(of: "a second answer", { try await adapter.answer(answer) }) else {
                throw CheckFailure("A second answer for request \(request.id) was accepted after the first.")
            }
            verified.append("request \(request.id) (\(request.toolName)) was answered '\(decision)' and the turn ended in \(end.summary); a second answer was refused (\"\(Self.shorten(Self.describe(again), to: 60))\")")
        }
        // Withdrawn by an interrupt.
        try await withAdapter(settings) { subject in
            let adapter = subject.adapter
            let mark = subject.log.events.count
            try await call("sendMessage") { try await adapter.sendMessage(asking.prompt) }
            let request = try await awaitRequest(subject, after: mark)
            try await call("interrupt") { try await adapter.interrupt() }
            let end = try await waitForTurnEnd(subject, after: mark, allowInterrupted: true, context: "After interrupt with a request open")
            let withdrawn = subject.log.events.dropFirst(mark).contains {
                if case .decisionWithdrawn(let id, _) = $0 { id == request.id } else { false }
            }
            guard withdrawn else {
                throw CheckFailure("Request \(request.id) was open when the turn was interrupted, but it was not withdrawn. Events: \(Self.describe(Array(subject.log.events.dropFirst(mark)))).")
            }
            let late = DecisionAnswer(id: request.id, decision: request.options[0])
            guard try await outcome(of: "an answer after the withdrawal", { try await adapter.answer(late) }) != nil else {
                throw CheckFailure("An answer for the withdrawn request \(request.id) was accepted.")
            }
            verified.append("a request open at an interrupt was withdrawn, the turn ended in \(end.summary), and a late answer was refused")
        }
        let text = verified.joined(separator: "; ")
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }

    /// Waits for the next decision request after `mark`.
    private func awaitRequest(_ subject: Subject, after mark: Int) async throws -> DecisionRequest {
        let events: [AdapterEvent]
        do {
            events = try await subject.log.wait(within: inputs.turnTimeout) { events in
                events.dropFirst(mark).contains { if case .decisionRequested = $0 { true } else { false } }
            }
        } catch {
            throw CheckFailure("The asking turn made no decision request within \(inputs.turnTimeout). Events: \(Self.describe(Array(subject.log.events.dropFirst(mark)))).")
        }
        for case .decisionRequested(let request) in events.dropFirst(mark) { return request }
        throw CheckFailure("No decision request was found.")
    }
}
