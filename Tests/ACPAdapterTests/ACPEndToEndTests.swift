import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension FastAgentTests {
    /// Turns through the session manager against the real fast-agent and the mock model API.
    @Suite("Turns")
    struct Turns {
        @Test("A text turn: assistant deltas with one messageId, the session's info, done, the agent session id")
        func textTurn() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.text("Hello ", "from ", "the mock."), whenPromptContains: "Say hello")
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Say hello")
                #expect(ACPTestbed.assistantText(messages) == "Hello from the mock.", "\(ACPTestbed.describe(messages))")
                let ids = Set(messages.filter { $0.type == .assistant }.compactMap(\.messageId))
                #expect(ids.count == 1, "\(ids)")
                // The session's info: which agent, how the session was made, modes, model choice.
                let info = try #require(messages.first { $0.type == .system && $0.extra["acp"] != nil })
                #expect(info.content.contains("fast-agent-acp 0.10.48 (ACP 1) for 'fast': a new session"), "\(info.content)")
                #expect(info.content.contains("Modes: agent (current)."), "\(info.content)")
                #expect(info.content.contains("Model: no choice offered."), "\(info.content)")
                #expect(info.content.contains("Restorable with session/resume and session/load."), "\(info.content)")
                #expect(info.extra["acp"]?["agentCapabilities"]?["loadSession"] == .bool(true))
                let done = try #require(messages.last { $0.type == .done })
                #expect(done.extra["stopReason"] == .string("end_turn"))
                #expect(done.extra["warning"] == nil)
                // The person's message is shown once (the manager's), not echoed back; the model got it.
                #expect(messages.filter { $0.type == .user }.map(\.content) == ["Say hello"])
                #expect(bed.api.requests.items.last?.userTexts.last == "Say hello")
                // The agent session id is fast-agent's own, and it stored the session.
                let stored = try #require(await manager.info(session.id)?.agentSessionId)
                try await ACPTestbed.poll(within: .seconds(10), "fast-agent did not store the session \(stored): \(bed.home.storedSessions)") {
                    bed.home.storedSessions.contains(stored)
                }
            }
        }

        @Test("A turn the model fails is an error with the agent's message; the next turn works")
        func failingTurn() async throws {
            try await ACPTestbed.run { bed in
                bed.api.reply(.error(status: 400, message: "the mock refuses this one"), whenPromptContains: "Fail")
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let failed = try await bed.turn(manager, session, "Fail please", endingIn: .error)
                let error = try #require(failed.last { $0.type == .error })
                #expect(error.content.contains("failed the turn") && error.content.contains("the mock refuses this one"), "\(error.content)")
                let next = try await bed.turn(manager, session, "Again")
                #expect(ACPTestbed.assistantText(next) == "OK")
            }
        }

        @Test("A mode setting selects one of the agent's modes; a mode it lacks is an error listing its modes")
        func modes() async throws {
            try await ACPTestbed.run { bed in
                let manager = try bed.manager(types: [
                    "fast": bed.settings(["mode": .string("agent")]),
                    "planner": bed.settings(["mode": .string("plan")]),
                ])
                let good = try await bed.open(manager)
                let messages = try await bed.turn(manager, good, "Hello")
                #expect(messages.contains { $0.extra["acp"]?["currentMode"] == .string("agent") })
                let bad = try await bed.open(manager, type: "planner")
                let failed = try await bed.turn(manager, bad, "Hello", endingIn: .error)
                let error = try #require(failed.last { $0.type == .error })
                #expect(error.content == "settings.mode: The 'planner' agent (fast-agent-acp) offers no mode 'plan' (its modes: agent).", "\(error.content)")
                // fast-agent has no model choice: setModel says so.
                do {
                    try await manager.setModel(good.id, model: "generic.other-model")
                    Issue.record("setModel was accepted by an agent with no model choice")
                } catch {
                    #expect("\(error)".contains("The 'fast' agent (fast-agent-acp) has no model choice"), "\(error)")
                }
            }
        }
    }
}
