import SwitchboardAdapterAPI

/// A broken guarantee: the message of a failed check.
struct CheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs single checks for ``AdapterConformance``. Each check makes its own adapters and
/// disposes them; it returns what it verified, or throws ``CheckFailure``.
struct ConformanceRunner: Sendable {
    let factory: AgentAdapterFactory
    let inputs: ConformanceInputs
    /// Requests to a plugin fail with code `plugin` whatever the plugin meant, so codes are
    /// checked only for in-process adapters.
    let isPlugin: Bool

    func run(_ check: ConformanceCheck) async throws -> String {
        switch check {
        case .loads: "Nothing to check."
        case .malformedSettings: try await malformedSettings()
        case .turnEnds: try await turnEnds()
        case .oneTurnAtATime: try await oneTurnAtATime()
        case .interrupt: try await interrupt()
        case .setModel: try await setModel()
        case .agentSessionId: try await agentSessionId()
        case .errorsAreEvents: try await errorsAreEvents()
        case .dispose: try await dispose()
        case .decisions: try await decisions()
        }
    }

    // MARK: - An adapter under test

    /// One adapter and the log of its events.
    struct Subject {
        let adapter: any AgentAdapter
        let log: AdapterEventLog
    }

    func make(_ settings: JSONValue) throws -> any AgentAdapter {
        do {
            return try factory(settings)
        } catch {
            throw CheckFailure("The adapter could not be created with settings \(settings.jsonText): \(Self.describe(error))")
        }
    }

    /// Makes and starts an adapter, runs `body`, and disposes the adapter whatever happens.
    func withAdapter<T>(
        _ settings: JSONValue,
        startOptions: StartOptions? = nil,
        _ body: (Subject) async throws -> T
    ) async throws -> T {
        let adapter = try make(settings)
        let subject = Subject(adapter: adapter, log: AdapterEventLog(adapter))
        do {
            let options = startOptions ?? inputs.startOptions
            try await call("start") { try await adapter.start(options) }
            let result = try await body(subject)
            await cleanUp(subject)
            return result
        } catch {
            await cleanUp(subject)
            throw error
        }
    }

    func cleanUp(_ subject: Subject) async {
        let adapter = subject.adapter
        _ = try? await Deadline.run("dispose", within: inputs.callTimeout) { await adapter.dispose() }
        subject.log.stop()
    }

    /// Calls into the adapter with a deadline; any error fails the check.
    func call(_ what: String, _ operation: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await Deadline.run(what, within: inputs.callTimeout, operation)
        } catch let expired as DeadlineExpired {
            throw CheckFailure("\(expired.what.prefix(1).uppercased())\(expired.what.dropFirst()) did not return within \(expired.timeout).")
        } catch {
            throw CheckFailure("\(what) threw: \(Self.describe(error))")
        }
    }

    /// Calls into the adapter with a deadline and returns the error it threw, or `nil`.
    /// Only a missed deadline fails the check.
    func outcome(of what: String, _ operation: @escaping @Sendable () async throws -> Void) async throws -> (any Error)? {
        do {
            try await Deadline.run(what, within: inputs.callTimeout, operation)
            return nil
        } catch let expired as DeadlineExpired {
            throw CheckFailure("\(expired.what.prefix(1).uppercased())\(expired.what.dropFirst()) did not return within \(expired.timeout).")
        } catch {
            return error
        }
    }

    // MARK: - Turns

    /// How a turn ended.
    struct TurnEnd {
        /// `idle`, `error` or `interrupted`.
        var status: SessionStatus
        /// The turn's events, from its `running` status to the status that ended it.
        var events: [AdapterEvent]
        /// The error text, when it ended in an error.
        var errorText: String?

        var summary: String {
            switch status {
            case .idle: "done (status idle)"
            case .error: "an error (\"\(ConformanceRunner.shorten(errorText ?? ""))\", status error)"
            default: "status \(status.rawValue)"
            }
        }
    }

    /// Where, after `mark`, a turn began (`running`) and ended (`idle`, `error`, `interrupted`).
    static func turnBounds(in events: [AdapterEvent], after mark: Int) -> (running: Int?, end: Int?) {
        var running: Int?
        for index in events.indices where index >= mark {
            guard case .status(let status, _) = events[index] else { continue }
            if running == nil {
                if status == .running { running = index }
            } else if status != .running {
                return (running, index)
            }
        }
        return (running, nil)
    }

    /// Sends `prompt` and waits for the turn to end. `interrupted` is allowed only when
    /// `allowInterrupted`; an `idle` end must follow a `done` message, an `error` end an error.
    func turn(_ subject: Subject, _ prompt: String, allowInterrupted: Bool = false) async throws -> TurnEnd {
        let mark = subject.log.events.count
        let adapter = subject.adapter
        try await call("sendMessage") { try await adapter.sendMessage(prompt) }
        return try await waitForTurnEnd(subject, after: mark, allowInterrupted: allowInterrupted)
    }

    func waitForTurnEnd(
        _ subject: Subject,
        after mark: Int,
        allowInterrupted: Bool = false,
        context: String = "After sendMessage"
    ) async throws -> TurnEnd {
        let events: [AdapterEvent]
        do {
            events = try await subject.log.wait(within: inputs.turnTimeout) { Self.turnBounds(in: $0, after: mark).end != nil }
        } catch {
            let seen = Array(subject.log.events.dropFirst(mark))
            let began = Self.turnBounds(in: subject.log.events, after: mark).running != nil
            let what = subject.log.isFinished ? "the event stream finished before the turn ended"
                : began ? "the turn did not end within \(inputs.turnTimeout)"
                : "no status 'running' was reported within \(inputs.turnTimeout) (each change of status must be reported)"
            throw CheckFailure("\(context), \(what). Events: \(Self.describe(seen)).")
        }
        let (start, endIndex) = Self.turnBounds(in: events, after: mark)
        guard let start, let endIndex, case .status(let status, _) = events[endIndex] else {
            throw CheckFailure("The turn's bounds could not be found in \(Self.describe(events)).")
        }
        let turnEvents = Array(events[start...endIndex])
        var end = TurnEnd(status: status, events: turnEvents)
        switch status {
        case .idle:
            guard turnEvents.contains(where: { if case .message(let m) = $0 { m.type == .done } else { false } }) else {
                throw CheckFailure("The turn ended with status idle but without a 'done' message. Events: \(Self.describe(turnEvents)).")
            }
        case .error:
            end.errorText = turnEvents.lazy.compactMap { event -> String? in
                switch event {
                case .message(let m) where m.type == .error: m.content
                case .error(let text): text
                default: nil
                }
            }.last
            guard let text = end.errorText, !text.isEmpty else {
                throw CheckFailure("The turn ended with status error but without an error message or error event saying why. Events: \(Self.describe(turnEvents)).")
            }
        case .interrupted:
            guard allowInterrupted else {
                throw CheckFailure("The turn ended with status interrupted although nothing interrupted it. Events: \(Self.describe(turnEvents)).")
            }
        case .running:
            break
        }
        let reported = await subject.adapter.status
        guard reported == status else {
            throw CheckFailure("The last status event said '\(status.rawValue)' but the adapter's status is '\(reported.rawValue)'.")
        }
        return end
    }

    /// Sends the long turn's prompt and waits until it runs; fails when it has already ended.
    func beginLongTurn(_ subject: Subject) async throws -> Int {
        let long = longTurn
        let mark = subject.log.events.count
        let adapter = subject.adapter
        try await call("sendMessage") { try await adapter.sendMessage(long.prompt) }
        do {
            try await subject.log.wait(within: inputs.turnTimeout) { Self.turnBounds(in: $0, after: mark).running != nil }
        } catch {
            throw CheckFailure("After sendMessage, no status 'running' was reported within \(inputs.turnTimeout). Events: \(Self.describe(Array(subject.log.events.dropFirst(mark)))).")
        }
        if Self.turnBounds(in: subject.log.events, after: mark).end != nil {
            throw CheckFailure("The long turn ended before the suite could act on it\(inputs.longTurn == nil ? " (no ConformanceInputs.longTurn was given, so the ordinary prompt was used)" : ""); give ConformanceInputs.longTurn a turn that runs until interrupted or for several seconds. Events: \(Self.describe(Array(subject.log.events.dropFirst(mark)))).")
        }
        return mark
    }

    var longTurn: ConformanceTurn {
        inputs.longTurn ?? ConformanceTurn(settings: nil, prompt: inputs.prompt)
    }

    var longTurnSettings: JSONValue { longTurn.settings ?? inputs.settings }

    // MARK: - Describing

    static func describe(_ error: any Error) -> String {
        if let error = error as? AdapterError { return "\(error.message) (code \(error.code))" }
        return String(describing: error)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    static func shorten(_ text: String, to limit: Int = 80) -> String {
        let flat = text.replacingNewlines()
        return flat.count <= limit ? flat : String(flat.prefix(limit)) + "…"
    }

    static func describe(_ events: [AdapterEvent]) -> String {
        guard !events.isEmpty else { return "none" }
        let shown = events.suffix(12).map { event -> String in
            switch event {
            case .status(let status, let id): "status(\(status.rawValue)\(id.map { ", \($0)" } ?? ""))"
            case .message(let m): "\(m.type.rawValue)(\"\(shorten(m.content, to: 40))\")"
            case .error(let text): "error(\"\(shorten(text, to: 60))\")"
            case .decisionRequested(let request): "ask(\(request.id), \(request.toolName))"
            case .decisionWithdrawn(let id, let reason): "withdraw(\(id), \(reason.rawValue))"
            }
        }
        let earlier = events.count > 12 ? ["… \(events.count - 12) earlier"] : []
        return (earlier + shown).joined(separator: ", ")
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
