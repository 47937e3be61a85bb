import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

/// The Claude plugin against the shipped conformance suite: `libClaudeAdapter.so` loaded as
/// the host loads it, the real `claude` CLI, and the mock model API answering by prompt.
@Suite("Claude plugin conformance", .childProcessGate)
struct ClaudeConformanceTests {
    static let longPrompt = "Count slowly until interrupted."
    static let failingPrompt = "Fail this turn, please."
    static let askingPrompt = "Make a file, asking first."

    @Test("The Claude plugin passes the conformance suite, inline and in a helper", .serialized, arguments: PluginIsolationMode.allCases)
    func conformance(isolation: PluginIsolationMode) async throws {
        try await ClaudeTestbed.run { bed in
            // The long turn streams a tick every 50 ms for minutes: it ends when the CLI,
            // interrupted, drops the connection. The failing turn is an API error the CLI
            // does not retry (403), which it reports as an error result.
            bed.api.reply(.slow(count: 6000, interval: .milliseconds(50)), whenPromptContains: Self.longPrompt)
            bed.api.reply(.error(status: 403, type: "permission_error", message: "the conformance suite's failing turn"),
                          whenPromptContains: Self.failingPrompt)
            // The asking turn writes a file, which the CLI asks permission for.
            bed.api.reply(.bash("touch conformance-file"), afterToolResult: .text("Done."), whenPromptContains: Self.askingPrompt)
            let api = bed.api
            var inputs = ConformanceInputs()
            inputs.settings = bed.settings()
            inputs.startOptions = StartOptions(workspaceName: "conformance", model: ClaudeTestbed.model, projectPath: bed.project, isHost: true)
            inputs.longTurn = ConformanceTurn(prompt: Self.longPrompt)
            inputs.failingTurn = ConformanceTurn(prompt: Self.failingPrompt)
            inputs.askingTurn = ConformanceTurn(prompt: Self.askingPrompt)
            inputs.failingStartSettings = bed.settings(["binary": .string(bed.home + "/no-such-claude")])
            inputs.malformedSettings += [
                .object(["binary": .int(3)]), .object(["interruptGraceSeconds": .string("soon")]),
                .object(["colour": .string("red")]), .object(["env": .array([])]),
                .object(["extraArgs": .array([.string("--model=other")])]), .object(["permissionMode": .string("rm -rf")]),
                .object(["dockerBinary": .string("docker")]),
            ]
            inputs.models = ("claude-conformance-a", "claude-conformance-b")
            // The CLI reports no model of its own; the model API sees the one the turn used.
            inputs.modelObserver = { _ in api.requests.items.last?.model }
            // The adapter reports a resumed id at start; the CLI only meets it at the first message.
            inputs.resumeAgentSessionId = "0c0f0a11-2222-4333-8444-555555555555"
            inputs.turnTimeout = ClaudeTestbed.turnTimeout
            inputs.callTimeout = .seconds(30)
            let report = await AdapterConformance(pluginPath: BuildProducts.plugin("ClaudeAdapter"), isolation: isolation, inputs: inputs).runTest()
            print(report)
            #expect(report.results.allSatisfy { $0.outcome == .passed }, "\(report)")
            #expect(report[.decisions]?.message.contains("a request open at an interrupt was withdrawn") == true, "\(report)")
            // The long turns reached the model API, and the failing turn was asked for.
            #expect(api.requests.items.contains { $0.userTexts.contains(Self.longPrompt) }, "the long prompt never reached the model API")
            #expect(api.requests.items.contains { $0.userTexts.last == Self.failingPrompt })
        }
    }
}
