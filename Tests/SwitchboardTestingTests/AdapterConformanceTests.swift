import Testing
import SwitchboardAdapterAPI
import SwitchboardTesting

/// The conformance suite on in-process adapters: one that keeps every guarantee passes every
/// check; each broken one fails the check for the guarantee it breaks — so the suite's checks
/// can fail.
@Suite("Adapter conformance suite", .childProcessGate)
struct AdapterConformanceTests {
    static func inputs(turnTimeout: Duration = .seconds(20)) -> ConformanceInputs {
        var inputs = ConformanceInputs()
        inputs.settings = .object(["prefix": .string("echo: ")])
        inputs.startOptions.model = "start-model"
        inputs.longTurn = ConformanceTurn(prompt: "/sleep 30")
        inputs.failingTurn = ConformanceTurn(prompt: "/fail")
        inputs.malformedSettings += [.object(["prefix": .int(3)]), .object(["colour": .string("red")])]
        inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
        inputs.resumeAgentSessionId = "resumed-session-7"
        inputs.turnTimeout = turnTimeout
        inputs.callTimeout = .seconds(5)
        return inputs
    }

    static func suite(_ flaw: ProcessEchoAdapter.Flaw? = nil, turnTimeout: Duration = .seconds(20)) -> AdapterConformance {
        AdapterConformance(name: "process-echo\(flaw.map { " (\($0))" } ?? "")", inputs: inputs(turnTimeout: turnTimeout)) { settings in
            try ProcessEchoAdapter(settings: settings, flaw: flaw)
        }
    }

    @Test("An in-process adapter that keeps every guarantee passes every check")
    func conformingAdapter() async {
        let report = await Self.suite().runTest()
        print(report)
        #expect(report.results.map(\.check) == ConformanceCheck.allCases)
        #expect(report[.loads]?.outcome == .notApplicable)
        for check in ConformanceCheck.allCases where check != .loads {
            #expect(report[check]?.outcome == .passed, "\(check): \(report[check]?.message ?? "not run")")
        }
        // It starts a process per turn: the dispose check saw them, and all were reaped.
        #expect(report[.dispose]?.message.contains("no process was left (1 started while it ran, all reaped)") == true,
                "\(report[.dispose]?.message ?? "")")
        #expect(report[.setModel]?.message == "Each model set applied to the next turn: 'conformance-model-a' then 'conformance-model-b'.")
    }

    @Test("Each broken guarantee fails its check, with a message that says what happened", arguments: [
        (ProcessEchoAdapter.Flaw.acceptsAnySettings, ConformanceCheck.malformedSettings, "were accepted"),
        (.acceptsSecondMessage, .oneTurnAtATime, "A second message was accepted while a turn was running."),
        (.ignoresInterrupt, .interrupt, "After interrupt, the turn did not end within"),
        (.ignoresModel, .setModel, "After setModel(\"conformance-model-a\") the next turn used 'start-model'."),
        (.noAgentSessionId, .agentSessionId, "No agent session id was reported after start and one turn"),
        (.noDoneMessage, .turnEnds, "The turn ended with status idle but without a 'done' message."),
        (.leaksProcess, .dispose, "process(es) started while the adapter ran are still there: pid"),
        (.neverFinishes, .dispose, "the event stream did not finish"),
        (.swallowsErrors, .errorsAreEvents, "The failing turn ended in done (status idle), not in an error."),
    ])
    func brokenAdapter(flaw: ProcessEchoAdapter.Flaw, check: ConformanceCheck, expected: String) async {
        let report = await Self.suite(flaw, turnTimeout: .seconds(3)).run([check])
        let result = report[check]
        #expect(result?.outcome == .failed, "\(report)")
        #expect(result?.message.contains(expected) == true, "\(result?.message ?? "not run")")
    }

    @Test("Checks declared not applicable are reported with the reason, not run")
    func notApplicable() async {
        var inputs = Self.inputs()
        inputs.notApplicable = [.interrupt: "this agent cannot be interrupted"]
        let report = await AdapterConformance(name: "n/a", inputs: inputs) { try ProcessEchoAdapter(settings: $0) }
            .run([.interrupt, .loads])
        #expect(report[.interrupt] == ConformanceResult(check: .interrupt, outcome: .notApplicable,
                                                         message: "this agent cannot be interrupted", duration: report[.interrupt]!.duration))
        #expect(report[.loads]?.outcome == .notApplicable)
        #expect(report.passed)
        #expect(report.summary == "0 passed, 0 failed, 2 not applicable")
    }

    @Test("Without a model observer or failure inputs, the report says what was not verified")
    func unverifiedParts() async {
        var inputs = ConformanceInputs()
        inputs.longTurn = ConformanceTurn(prompt: "/sleep 30")
        let report = await AdapterConformance(name: "plain", inputs: inputs) { try ProcessEchoAdapter(settings: $0) }
            .run([.setModel, .errorsAreEvents])
        #expect(report.passed, "\(report)")
        #expect(report[.setModel]?.message.contains("Not verified: which model a turn used") == true)
        #expect(report[.errorsAreEvents]?.message.contains("Not exercised: an error during a turn (no ConformanceInputs.failingTurn); a failed start (no ConformanceInputs.failingStartSettings).") == true)
    }

    @Test("A plugin path that does not load fails 'loads' and every other check says why it did not run")
    func missingPlugin() async {
        let report = await AdapterConformance(pluginPath: "/nonexistent/libNope.so").run([.loads, .turnEnds])
        #expect(report[.loads]?.outcome == .failed)
        #expect(report[.loads]?.message == "Plugin '/nonexistent/libNope.so' does not exist.")
        #expect(report[.turnEnds]?.message == "Not run: the plugin did not load (Plugin '/nonexistent/libNope.so' does not exist.).")
    }
}
