import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension CodexCLITests {
    /// Every failure carries its cause, and the session recovers where it can.
    @Suite("Failures")
    struct Failures {
        @Test("A binary that does not exist fails the start, naming the path and settings.binary")
        func binaryNotFound() async throws {
            try await CodexTestbed.run { bed in
                let manager = try bed.manager(settings: bed.settings(["binary": .string("/nonexistent/bin/codex")]))
                await #expect(throws: AdapterError(.agentFailure, "The codex binary '/nonexistent/bin/codex' does not exist (set by settings.binary in the config).")) {
                    try await bed.open(manager)
                }
                #expect(await manager.list().isEmpty)

                let onPath = try bed.manager(settings: bed.settings(["binary": .string("codex-not-installed")]))
                do {
                    _ = try await bed.open(onPath)
                    Issue.record("the start should have failed")
                } catch let error as AdapterError {
                    #expect(error.message.hasPrefix("The codex binary 'codex-not-installed' was not found on PATH ("), "\(error.message)")
                    #expect(error.message.hasSuffix("set settings.binary in the config to its full path."))
                }
            }
        }

        @Test("The server killed mid-turn: error with the exit and stderr; the next message starts a new process that resumes")
        func killedMidTurn() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.text("Noted."), .slow(), .text("Back again."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                try await bed.turn(manager, session, "Remember: 7")

                let mark = session.client.received.count
                try await manager.send(session.id, text: "Count slowly")
                try await CodexTestbed.waitForMessage(session.client, after: mark) { $0.type == .assistant }
                let victim = try #require(CodexTestbed.codexChildren().first)
                #expect(kill(victim.pid, SIGKILL) == 0)
                try await session.client.waitForStatus(.error, after: mark, within: .seconds(30))
                let during = Array(session.client.messages.dropFirst(mark))
                let error = try #require(during.last { $0.type == .error })
                #expect(error.content.hasPrefix("codex app-server was killed by signal 9 (SIGKILL) during the turn"), "\(error.content)")
                #expect(error.content.hasSuffix("The next message starts it again, resuming the thread."))
                #expect(await manager.status(session.id) == .error)
                #expect(CodexTestbed.codexChildren().isEmpty, "the dead process was reaped")

                let messages = try await bed.turn(manager, session, "What did I ask you to remember?")
                #expect(CodexTestbed.assistantText(messages) == "Back again.")
                let fresh = try #require(CodexTestbed.codexChildren().first)
                #expect(fresh.pid != victim.pid)
                #expect(bed.api.requests.items.last?.userTexts.first == "Remember: 7", "the thread was resumed")
            }
        }

        @Test("A process that exits at once: its exit code and stderr")
        func exitsAtOnce() async throws {
            try await CodexTestbed.run { bed in
                let manager = try bed.manager(settings: bed.settings(["extraArgs": .array([.string("--no-such-flag")])]))
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Hello", endingIn: .error)
                let error = try #require(messages.last { $0.type == .error })
                #expect(error.content.hasPrefix("codex app-server did not initialize: codex app-server exited with code 2"), "\(error.content)")
                #expect(error.content.contains("--no-such-flag"), "\(error.content)")
            }
        }

        @Test("Errors from the model API end the turn with the server's message; the next turn works")
        func apiErrors() async throws {
            try await CodexTestbed.run { bed in
                bed.api.enqueue(.error(status: 400, message: "mock bad request"), .error(status: 500, message: "mock overloaded"), .text("Fine now."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let bad = try await bed.turn(manager, session, "Hello", endingIn: .error)
                let error = try #require(bad.last { $0.type == .error })
                #expect(error.content.contains("mock bad request"), "\(error.content)")
                #expect(!bad.contains { $0.type == .done })
                let overloaded = try await bed.turn(manager, session, "Again", endingIn: .error)
                #expect(overloaded.contains { $0.type == .error }, "\(overloaded.map(\.content))")
                let ok = try await bed.turn(manager, session, "Try again")
                #expect(CodexTestbed.assistantText(ok) == "Fine now.")
                #expect(bed.api.requests.items.count == 3, "no retries with the test provider")
            }
        }

        @Test("A retried model request is a system notice, not an error; the turn goes on")
        func retryNotice() async throws {
            try await CodexTestbed.run { bed in
                try CodexCLI.configTOML(api: bed.api, streamRetries: 1).write(toFile: bed.home.path + "/config.toml", atomically: true, encoding: .utf8)
                bed.api.enqueue(.error(status: 500, message: "mock hiccup"), .text("Recovered."))
                let manager = try bed.manager()
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Hello")
                let notice = try #require(messages.first { $0.type == .system && $0.content.hasPrefix("Reconnecting: ") }, "\(messages.map(\.content))")
                #expect(notice.extra["willRetry"] == .bool(true))
                #expect(!messages.contains { $0.type == .error })
                #expect(CodexTestbed.assistantText(messages) == "Recovered.")
                #expect(bed.api.requests.items.count == 2)
            }
        }

        @Test("A thread id that cannot be resumed is an error naming it, never a new thread")
        func unknownResume() async throws {
            try await CodexTestbed.run { bed in
                let manager = try bed.manager()
                let unknown = "01a23344-1473-7393-9745-000000000000"
                let session = try await bed.open(manager, agentSessionId: unknown)
                let messages = try await bed.turn(manager, session, "Hello again", endingIn: .error)
                #expect(messages.last { $0.type == .error }?.content
                        == "Could not resume the Codex thread '\(unknown)': no rollout found for thread id \(unknown)")
                #expect(bed.api.requests.items.isEmpty, "codex never called the model")
                #expect(bed.home.rollouts.isEmpty, "no new thread")
                #expect(await manager.info(session.id)?.agentSessionId == unknown)
            }
        }

        @Test("Not logged in: a provider that needs OpenAI credentials and none are there")
        func notLoggedIn() async throws {
            try await CodexTestbed.run { bed in
                let loggedOut = try CodexCLI.makeHome(api: nil)
                defer { loggedOut.remove() }
                var env: [String: JSONValue] = [:]
                for (name, value) in CodexCLI.environment(home: loggedOut) { env[name] = .string(value) }
                env["CODEX_API_KEY"] = .string("")
                let manager = try bed.manager(settings: bed.settings(["env": .object(env)]))
                let session = try await bed.open(manager)
                let messages = try await bed.turn(manager, session, "Hello", endingIn: .error)
                #expect(messages.last { $0.type == .error }?.content.hasPrefix("Codex is not logged in:") == true, "\(messages.map(\.content))")
                #expect(bed.api.requests.items.isEmpty)
            }
        }
    }

    /// Container mode through a fake `docker` that runs the inner command locally.
    @Suite("Container mode")
    struct Container {
        @Test("docker exec -i -u <user> -w <workdir> -e NAME… <container> codex app-server, variables passed by name")
        func containerTurn() async throws {
            try await CodexTestbed.run { bed in
                let docker = try FakeDocker(in: bed.home.path + "/fake-docker", claude: bed.codex)
                try FileManager.default.createSymbolicLink(atPath: docker.containerBinDirectory + "/codex", withDestinationPath: bed.codex)
                var env: [String: JSONValue] = ["PATH": .string(docker.searchPath)]
                for (name, value) in CodexCLI.environment(home: bed.home) { env[name] = .string(value) }
                bed.api.enqueue(.text("Hello from ", "the container."))
                let manager = try bed.manager(settings: bed.settings(["containerUser": .string("agent"), "env": .object(env)]))
                let session = try await bed.open(manager, workspace: "alpha")
                #expect(await manager.info(session.id)?.containerName == "workspace-alpha")
                let messages = try await bed.turn(manager, session, "Hi")
                #expect(CodexTestbed.assistantText(messages) == "Hello from the container.")

                let args = try #require(docker.invocations.first)
                var expected = ["exec", "-i", "-u", "agent", "-w", bed.project]
                for name in env.keys.sorted() { expected += ["-e", name] }
                expected += ["workspace-alpha", "codex", "app-server"]
                #expect(args == expected)
                #expect(!args.contains { $0.contains("sk-switchboard") }, "secrets stay off the command line")
            }
        }
    }
}
