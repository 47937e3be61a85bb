import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension FastAgentTests {
    /// Interrupts, restoring sessions, and one plugin file serving two agent types.
    @Suite("Sessions")
    struct Sessions {
        @Test("Interrupt while the reply streams: session/cancel ends the turn interrupted; the next turn works in the same process")
        func interruptWhileStreaming() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.slow(count: 2000, interval: .milliseconds(20)), whenPromptContains: "Count slowly")
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await ACPTestbed.waitForMessage(session.client, after: mark) { $0.type == .assistant }
                let before = ACPTestbed.agentProcesses().map(\.pid)
                await manager.interrupt(session.id)
                try await session.client.waitForStatus(.interrupted, after: mark, within: ACPTestbed.turnTimeout)
                let next = try await bed.turn(manager, session, "After the interrupt")
                #expect(ACPTestbed.assistantText(next) == "OK", "\(ACPTestbed.describe(next))")
                // fast-agent honours session/cancel: no kill was needed, the process is the same.
                #expect(ACPTestbed.agentProcesses().map(\.pid) == before)
                #expect(!next.contains { $0.extra["acp"] != nil }, "a new process would show the session info again")
                // The model's next request is the new prompt (the interrupted one is not its prompt).
                #expect(bed.api.requests.items.last?.prompt == "After the interrupt")
            }
        }

        @Test("Dispose, a new manager, and the agent session id: the session is restored and the model sees the earlier conversation")
        func restoreAfterDispose() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.text("Noted: papaya."), whenPromptContains: "Remember")
                let first = try bed.manager()
                let session = try await bed.open(first)
                try await bed.turn(first, session, "Remember the word papaya")
                let agentSessionId = try #require(await first.info(session.id)?.agentSessionId)
                await first.disposeAll()
                #expect(ACPTestbed.agentProcesses().isEmpty)

                let second = try bed.manager()
                let restored = try await bed.open(second, agentSessionId: agentSessionId)
                let messages = try await bed.turn(second, restored, "Which word?")
                let info = try #require(messages.first { $0.extra["acp"] != nil })
                #expect(info.content.contains("the session restored with session/resume, \(agentSessionId)"), "\(info.content)")
                // The replay is not shown again: this turn's reply is the only assistant text.
                #expect(ACPTestbed.assistantText(messages) == "OK", "\(ACPTestbed.describe(messages))")
                let request = try #require(bed.api.requests.items.last)
                #expect(request.userTexts == ["Remember the word papaya", "Which word?"], "\(request.userTexts)")
                #expect(request.assistantTexts.contains("Noted: papaya."))
                #expect(await second.info(restored.id)?.agentSessionId == agentSessionId)
            }
        }

        @Test("One plugin file serves two agent types from one config at once, each with its own settings")
        func twoTypes() async throws {
            try await ACPTestbed.run { bed in
                let dir = try TemporaryDirectory()
                defer { dir.remove() }
                func entry(_ settings: JSONValue) -> String {
                    #"{"plugin":"\#(bed.plugin.path)","settings":\#(settings.jsonText)}"#
                }
                let json = #"{"pluginDirectories":[],"agents":{"fast":\#(entry(bed.settings())),"quick":\#(entry(bed.settings(["mode": .string("agent")])))}}"#
                let config = try SwitchboardConfig.parse(json, baseDirectory: dir.path, bundledPluginDirectory: BuildProducts.directory)
                let catalog = PluginCatalog.load(config)
                #expect(catalog.registry.agentTypes == ["fast", "quick"], "\(catalog.entries)")
                let manager = bed.manager(registry: catalog.registry)
                bed.api.reply(.text("fast here"), whenPromptContains: "Who is fast")
                bed.api.reply(.text("quick here"), whenPromptContains: "Who is quick")
                let fast = try await bed.open(manager, type: "fast")
                let quick = try await bed.open(manager, type: "quick")
                async let fastTurn = bed.turn(manager, fast, "Who is fast")
                async let quickTurn = bed.turn(manager, quick, "Who is quick")
                let (a, b) = try await (fastTurn, quickTurn)
                #expect(ACPTestbed.assistantText(a) == "fast here" && ACPTestbed.assistantText(b) == "quick here")
                #expect(a.contains { $0.content.contains("for 'fast'") }, "\(ACPTestbed.describe(a))")
                #expect(b.contains { $0.content.contains("for 'quick'") }, "\(ACPTestbed.describe(b))")
                #expect(ACPTestbed.agentProcesses().count == 2)
            }
        }
    }
}
