import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The shipped conformance suite on every plugin in the repository, loaded from its `.so`
/// through dlopen as the host loads it. (The in-process adapter's run is in
/// SwitchboardTestingTests; the out-of-tree example's in SwitchboardCLITests.)
@Suite("Conformance of the repository's plugins", .childProcessGate)
struct PluginConformanceTests {
    static func json(_ text: String) -> JSONValue {
        // The literals below are valid JSON; a typo fails the test that uses it.
        (try? JSONValue(parsing: text)) ?? .string("invalid JSON literal in the test: \(text)")
    }

    @Test("The scripted plugin passes every check")
    func scripted() async {
        var inputs = ConformanceInputs()
        inputs.settings = Self.json(#"{"turns":[{"agentSessionId":"scripted-conformance","echo":true}],"loop":true}"#)
        inputs.longTurn = ConformanceTurn(settings: Self.json(#"{"turns":[{"hang":true},{"echo":true}],"loop":true}"#), prompt: "hang")
        inputs.failingTurn = ConformanceTurn(settings: Self.json(#"{"turns":[{"fail":"simulated agent failure"},{"echo":true}]}"#), prompt: "fail")
        inputs.failingStartSettings = Self.json(#"{"startFailure":"no such container"}"#)
        inputs.malformedSettings += [Self.json(#"{"loop":"yes"}"#), Self.json(#"{"colour":"red"}"#), Self.json(#"{"turns":"no"}"#)]
        inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
        inputs.resumeAgentSessionId = "resumed-scripted-1"
        inputs.askingTurn = ConformanceTurn(
            settings: Self.json(#"{"turns":[{"messages":[{"ask":{"toolName":"Bash","input":{"command":"touch x"}}}]}],"loop":true}"#),
            prompt: "ask"
        )
        let report = await AdapterConformance(pluginPath: BuildProducts.plugin("ScriptedAdapter"), inputs: inputs).runTest()
        print(report)
        #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
        #expect(report[.errorsAreEvents]?.message.contains("Not exercised") == false)
        #expect(report[.decisions]?.message.contains("a request open at an interrupt was withdrawn") == true, "\(report)")
    }

    @Test("The C example plugin, compiled with the system compiler, passes every check")
    func cExample() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/libEchoC.so"
        try CPluginCompiler.build(source: CPluginTests.source, output: path)
        var inputs = ConformanceInputs()
        inputs.settings = Self.json(#"{"prefix":"you said: "}"#)
        // Every turn of an adapter created with delayMs waits that long: long enough to
        // refuse a second message and to interrupt, short enough for the next turn to end.
        inputs.longTurn = ConformanceTurn(settings: Self.json(#"{"delayMs":4000}"#), prompt: "slow")
        inputs.malformedSettings += [Self.json(#"{"prefix":3}"#), Self.json(#"{"delayMs":-1}"#)]
        inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
        inputs.resumeAgentSessionId = "resumed-c-1"
        let report = await AdapterConformance(pluginPath: path, inputs: inputs).runTest()
        print(report)
        #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
        // An echo cannot fail: the report says which error paths were not exercised.
        #expect(report[.errorsAreEvents]?.message.contains("Not exercised: an error during a turn (no ConformanceInputs.failingTurn); a failed start (no ConformanceInputs.failingStartSettings).") == true)
    }

    /// The placeholder's `start` always fails, so the checks that need a started adapter do
    /// not apply; the report shows them as "not applicable" with this reason.
    static let codexReason = "The Codex placeholder's start always fails ('Codex adapter not yet implemented'), so there is no turn to check."

    @Test("The Codex placeholder passes what applies; the turn checks are reported not applicable")
    func codexPlaceholder() async {
        var inputs = ConformanceInputs()
        for check in [ConformanceCheck.turnEnds, .oneTurnAtATime, .interrupt, .setModel, .agentSessionId, .decisions] {
            inputs.notApplicable[check] = Self.codexReason
        }
        inputs.failingStartSettings = .object([:])
        inputs.malformedSettings += [Self.json(#"{"model":"gpt-5"}"#)]
        let report = await AdapterConformance(pluginPath: BuildProducts.plugin("CodexAdapter"), inputs: inputs).runTest()
        print(report)
        #expect(report.summary == "4 passed, 0 failed, 6 not applicable", "\(report)")
        #expect(report[.turnEnds]?.message == Self.codexReason)
        #expect(report[.errorsAreEvents]?.message.hasPrefix("A failed start threw \"Codex adapter not yet implemented (code notImplemented)\"") == true)
        #expect(report[.dispose]?.message.hasPrefix("Disposed after a failed start") == true)
    }
}
