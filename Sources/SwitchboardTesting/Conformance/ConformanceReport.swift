/// One of the checks of ``AdapterConformance``: a guarantee every adapter must keep (the
/// "Implementation requirements" of `AgentAdapter`).
public enum ConformanceCheck: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A plugin file loads and its descriptor is valid (not applicable to a factory).
    case loads
    /// Malformed settings are refused at create with an `invalidSettings` error that names them.
    case malformedSettings
    /// After `start`, a turn ends in `done` (status `idle`) or in an error (status `error`),
    /// and so does the next one.
    case turnEnds
    /// A second message while a turn runs is refused, and the running turn is unaffected.
    case oneTurnAtATime
    /// `interrupt` while a turn runs ends it with status `interrupted`; the next turn works;
    /// `interrupt` with no turn running does nothing.
    case interrupt
    /// `setModel` applies from the next turn on.
    case setModel
    /// The agent session id is reported with a status event once known, and the adapter's
    /// `agentSessionId` agrees with the events.
    case agentSessionId
    /// Errors arrive as error events or thrown errors, never as crashes or hangs.
    case errorsAreEvents
    /// `dispose` finishes the event stream, leaves no process behind, refuses later calls,
    /// and is harmless twice.
    case dispose
    /// Decision requests: an answer reaches the agent once (the turn goes on and a second
    /// answer is refused); an interrupt withdraws what is open; an answer for an unknown id
    /// is an error, not a crash.
    case decisions

    /// What the check verifies, as a sentence.
    public var title: String {
        switch self {
        case .loads: "The plugin loads and its descriptor is valid"
        case .malformedSettings: "Malformed settings are a clear error at create"
        case .turnEnds: "After start, a turn ends in done or error"
        case .oneTurnAtATime: "One message at a time; the running turn is unaffected"
        case .interrupt: "Interrupt ends a running turn in interrupted; the next turn works"
        case .setModel: "A model change applies to the next turn"
        case .agentSessionId: "The agent session id is reported once known"
        case .errorsAreEvents: "Errors arrive as events or thrown errors, never crashes"
        case .dispose: "Dispose stops all events and leaves no process"
        case .decisions: "Decision requests are answered once, withdrawn at interrupt, unknown answers refused"
        }
    }

    /// The check's name, e.g. `dispose`.
    public var description: String { rawValue }
}

/// How one check came out.
public struct ConformanceResult: Sendable, Hashable, CustomStringConvertible {
    /// Passed, failed, or not applicable to this adapter.
    public enum Outcome: String, Sendable, Hashable {
        /// Everything the check verifies held. The message says what was verified and, where
        /// the inputs did not allow it, what was not.
        case passed
        /// A guarantee was broken; the message says which and what happened instead.
        case failed
        /// The check was not run: the caller declared it not applicable (with the reason,
        /// in ``ConformanceInputs/notApplicable``), or it concerns plugin files only.
        case notApplicable = "not applicable"
    }

    /// The check.
    public var check: ConformanceCheck
    /// How it came out.
    public var outcome: Outcome
    /// What was verified, or what went wrong, as sentences.
    public var message: String
    /// How long it took.
    public var duration: Duration

    /// A result, as the suite makes them (public so reports can be built in tests).
    public init(check: ConformanceCheck, outcome: Outcome, message: String, duration: Duration = .zero) {
        self.check = check
        self.outcome = outcome
        self.message = message
        self.duration = duration
    }

    /// `check: outcome — message`.
    public var description: String { "\(check.rawValue): \(outcome.rawValue) — \(message)" }
}

/// What ``AdapterConformance/run(_:)`` found: one result per check, in order.
public struct ConformanceReport: Sendable, Hashable, CustomStringConvertible {
    /// The adapter under test: the plugin file, or the name given for a factory.
    public var subject: String
    /// One result per check that was asked for, in the order they ran.
    public var results: [ConformanceResult]

    /// A report on `subject` with `results`.
    public init(subject: String, results: [ConformanceResult]) {
        self.subject = subject
        self.results = results
    }

    /// Whether no check failed.
    public var passed: Bool { failures.isEmpty }

    /// The checks that failed.
    public var failures: [ConformanceResult] { results.filter { $0.outcome == .failed } }

    /// The result of one check, if it was run.
    public subscript(check: ConformanceCheck) -> ConformanceResult? {
        results.first { $0.check == check }
    }

    /// `N passed, N failed, N not applicable`.
    public var summary: String {
        let count = { (o: ConformanceResult.Outcome) in self.results.filter { $0.outcome == o }.count }
        return "\(count(.passed)) passed, \(count(.failed)) failed, \(count(.notApplicable)) not applicable"
    }

    /// A line per check, then the summary.
    public var description: String {
        var lines = ["Conformance of \(subject):"]
        for result in results {
            let mark = switch result.outcome {
            case .passed: "PASS"
            case .failed: "FAIL"
            case .notApplicable: "N/A "
            }
            lines.append("  \(mark) \(result.check.rawValue) — \(result.check.title). \(result.message)")
        }
        lines.append("  \(summary)")
        return lines.joined(separator: "\n")
    }
}
