import Testing
import SwitchboardAdapterAPI
import SwitchboardTesting

/// Runs Switchboard's conformance suite on the built plugin, loaded exactly as the host
/// loads it: `swift test` builds libEchoAgent.so next to this test binary.
@Test("libEchoAgent.so passes the Switchboard conformance suite")
func echoAgentConforms() async {
    var inputs = ConformanceInputs()
    inputs.settings = .object(["prefix": .string("> ")])
    // A turn that thinks for 3 s: long enough to refuse a second message and to interrupt.
    inputs.longTurn = ConformanceTurn(settings: .object(["thinkMs": .int(3000)]), prompt: "think")
    // failOn makes a turn end in an error, so error reporting is exercised too.
    inputs.failingTurn = ConformanceTurn(settings: .object(["failOn": .string("FAIL")]), prompt: "please FAIL")
    inputs.malformedSettings += [.object(["prefix": .int(1)]), .object(["thinkMs": .int(-1)]), .object(["colour": .string("red")])]
    // The done message carries the model in use.
    inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
    inputs.resumeAgentSessionId = "echo-resumed-1"

    let report = await AdapterConformance(pluginPath: BuildProducts.plugin("EchoAgent"), inputs: inputs).runTest()
    print(report)
}
