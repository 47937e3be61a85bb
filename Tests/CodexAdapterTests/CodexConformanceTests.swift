import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The Codex plugin against the shipped conformance suite: `libCodexAdapter.so` loaded as the
/// host loads it, the real `codex app-server`, and the mock Responses API answering by prompt.
@Suite("Codex plugin conformance", .childProcessGate)
struct CodexConformanceTests {
    static let longPrompt = "Count slowly until interrupted."
    static let failingPrompt = "Fail this turn, please."
    static let askingPrompt = "Make a file, asking first."

    @Test("The Codex plugin passes the conformance suite, inline and in a helper", .serialized, arguments: PluginIsolationMode.allCases)
    func conformance(isolation: PluginIsolationMode) async throws {
        try await CodexTestbed.run { bed in
            // The long turn streams a tick every 50 ms for minutes: it ends when Codex,
            // interrupted, drops the connection. The failing turn is an HTTP 400 (the test
            // provider does not retry).
            bed.api.reply(.slow(count: 6000, interval: .milliseconds(50)), whenPromptContains: Self.longPrompt)
            bed.api.reply(.error(status: 400, message: "the conformance suite's failing turn"), whenPromptContains: Self.failingPrompt)
            // The asking turn runs a command that writes, which Codex asks for under untrusted;
            // the model's next step (after the command's output) is the mock's default text.
            bed.api.reply(.shell("touch conformance-file", callId: "call_conformance"), whenPromptContains: Self.askingPrompt)
            let api = bed.api
            var inputs = ConformanceInputs()
            inputs.settings = bed.settings()
            inputs.startOptions = StartOptions(workspaceName: "conformance", model: CodexTestbed.model, projectPath: bed.project, isHost: true)
            inputs.longTurn = ConformanceTurn(prompt: Self.longPrompt)
            inputs.failingTurn = ConformanceTurn(prompt: Self.failingPrompt)
            inputs.askingTurn = ConformanceTurn(settings: bed.settings(["approvalPolicy": .string("untrusted")]), prompt: Self.askingPrompt)
            inputs.failingStartSettings = bed.settings(["binary": .string(bed.home.path + "/no-such-codex")])
            inputs.malformedSettings += [
                .object(["binary": .int(3)]), .object(["interruptGraceSeconds": .string("soon")]),
                .object(["colour": .string("red")]), .object(["env": .array([])]),
                .object(["extraArgs": .array([.string("app-server")])]), .object(["sandbox": .string("workspaceWrite")]),
                .object(["approvalPolicy": .string("on-failure")]), .object(["dockerBinary": .string("docker")]),
            ]
            inputs.models = ("gpt-5.4", "gpt-5.2")
            // The model API sees the model each turn used.
            inputs.modelObserver = { _ in api.requests.items.last?.model }
            // A thread given at start is resumable as it is: the adapter reports it at once.
            inputs.resumeAgentSessionId = "01a23344-1473-7393-9745-6892277cc0da"
            inputs.turnTimeout = CodexTestbed.turnTimeout
            inputs.callTimeout = .seconds(30)
            let report = await AdapterConformance(pluginPath: BuildProducts.plugin("CodexAdapter"), isolation: isolation, inputs: inputs).runTest()
            print(report)
            #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
            #expect(report[.decisions]?.message.contains("a request open at an interrupt was withdrawn") == true, "\(report)")
            #expect(api.requests.items.contains { $0.userTexts.last == Self.failingPrompt })
        }
    }
}
