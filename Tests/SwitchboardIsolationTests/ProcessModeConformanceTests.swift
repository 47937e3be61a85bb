import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// The shipped conformance suite on plugins run with isolation `process`: the adapters the
/// daemon makes are ``IsolatedPluginAdapter``s talking to a helper.
@Suite("Conformance in process mode", .childProcessGate)
struct ProcessModeConformanceTests {
    static func json(_ text: String) -> JSONValue {
        (try? JSONValue(parsing: text)) ?? .string("invalid JSON literal in the test: \(text)")
    }

    @Test("The scripted plugin passes every check in a helper")
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
        let report = await AdapterConformance(pluginPath: BuildProducts.plugin("ScriptedAdapter"), isolation: .process, inputs: inputs).runTest()
        print(report)
        #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
    }
}
