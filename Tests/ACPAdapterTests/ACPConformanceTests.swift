import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension FastAgentTests {
    /// The ACP plugin against the shipped conformance suite: `libACPAdapter.so` loaded as the
    /// host loads it, the real fast-agent, and the mock model API answering by prompt.
    @Suite("Conformance")
    struct Conformance {
        static let longPrompt = "Count slowly until interrupted."
        static let failingPrompt = "Fail this turn, please."
        static let askingPrompt = "Make a file, asking first."

        @Test("The ACP plugin passes the conformance suite")
        func conformance() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.slow(count: 6000, interval: .milliseconds(20)), whenPromptContains: Self.longPrompt)
                bed.api.reply(.error(status: 400, message: "the conformance suite's failing turn"), whenPromptContains: Self.failingPrompt)
                bed.api.reply(.shell("touch conformance-file"), then: .text("Made it."), whenPromptContains: Self.askingPrompt)
                var inputs = ConformanceInputs()
                inputs.settings = bed.settings()
                inputs.startOptions = StartOptions(workspaceName: "conformance", projectPath: bed.project, isHost: true)
                inputs.longTurn = ConformanceTurn(prompt: Self.longPrompt)
                inputs.failingTurn = ConformanceTurn(prompt: Self.failingPrompt)
                inputs.askingTurn = ConformanceTurn(prompt: Self.askingPrompt)
                inputs.failingStartSettings = bed.settings(["binary": .string(bed.home.path + "/no-such-agent")])
                inputs.malformedSettings += [
                    .object([:]), .object(["binary": .int(3)]), .object(["binary": .string("a"), "extraArgs": .string("--shell")]),
                    .object(["binary": .string("a"), "colour": .string("red")]), .object(["binary": .string("a"), "env": .array([])]),
                    .object(["binary": .string("a"), "interruptGraceSeconds": .string("soon")]),
                    .object(["binary": .string("a"), "terminal": .string("yes")]), .object(["command": .string("a")]),
                ]
                inputs.notApplicable[.setModel] = "fast-agent 0.10.48 offers no model choice over ACP (no model config option, no session/set_model); the plugin refuses setModel with an error saying so (FastAgentTests.Turns.modes checks it)."
                // A session given at start is restorable as it is: the adapter reports it at once.
                inputs.resumeAgentSessionId = "2612010000-conformance"
                inputs.turnTimeout = ACPTestbed.turnTimeout
                inputs.callTimeout = .seconds(60)
                let report = await AdapterConformance(pluginPath: BuildProducts.plugin("ACPAdapter"), inputs: inputs).runTest()
                print(report)
                #expect(report.results.filter { $0.check != .setModel }.allSatisfy { $0.outcome == .passed }, "\(report)")
                #expect(report[.decisions]?.message.contains("a request open at an interrupt was withdrawn") == true, "\(report)")
                #expect(bed.api.requests.items.contains { $0.prompt == Self.failingPrompt })
            }
        }
    }

    /// Many sessions that run a command and are disposed mid-turn leave nothing behind.
    @Suite("Process hygiene")
    struct Hygiene {
        /// `$SWITCHBOARD_ACP_CYCLES`, default 3: every cycle starts a real fast-agent (2 to 12 s
        /// here), so the default keeps the suite short.
        static var cycles: Int {
            ProcessInfo.processInfo.environment["SWITCHBOARD_ACP_CYCLES"].flatMap(Int.init) ?? 3
        }

        @Test("Start, a long command in a client terminal, dispose mid-turn: no agent, no command, no zombie, no extra pipe")
        func cycles() async throws {
            try await ACPTestbed.run { bed in
                let marker = "sleep 97.5"
                bed.api.reply(.shell(marker), then: .text("Slept."), whenPromptContains: "Sleep")
                let rules = ApprovalPolicy(rules: [.init(agent: "fast", tool: "execute", decision: .allow)])
                let manager = try bed.manager(approvals: rules)
                var baseline: [Int32: String]?
                for number in 1...Self.cycles {
                    let session = try await bed.open(manager)
                    let mark = session.client.received.count
                    try await manager.send(session.id, text: "Sleep \(number)")
                    try await ACPTestbed.waitForMessage(session.client, after: mark) { $0.toolName == "terminal" && $0.type == .toolUse }
                    #expect(ACPTestbed.processes(containing: marker).count == 1)
                    let groups = Set(ACPTestbed.processes(containing: marker).map(\.pid) + ACPTestbed.agentProcesses().map(\.pid))
                    await manager.dispose(session.id)
                    // Dispose promises everything was reaped: check at once.
                    #expect(ACPTestbed.processes(containing: marker).isEmpty, "\(ACPTestbed.processes(containing: marker))")
                    #expect(ACPTestbed.agentProcesses().isEmpty, "\(ACPTestbed.agentProcesses())")
                    let zombies = ProcessInspection.children().filter { $0.isZombie && groups.contains($0.pid) }
                    #expect(zombies.isEmpty, "\(zombies)")
                    if baseline == nil { baseline = ProcessInspection.openDescriptors() }
                }
                // The adapter talks to the agent and its commands through pipes only.
                let before = baseline ?? [:]
                var extra: [Int32: String] = [:]
                try await ACPTestbed.poll(within: .seconds(30), "pipes opened and not closed: \(extra)") {
                    extra = ProcessInspection.openDescriptors().filter { $0.value.hasPrefix("pipe:") && before[$0.key] != $0.value }
                    return extra.isEmpty
                }
            }
        }
    }
}
