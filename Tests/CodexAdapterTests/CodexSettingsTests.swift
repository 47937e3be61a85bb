import Testing
import SwitchboardAdapterAPI
@testable import CodexAdapter

@Suite("Codex settings")
struct CodexSettingsTests {
    @Test("Defaults: codex on PATH, approvals never, workspace-write sandbox, 5 s graces")
    func defaults() throws {
        let settings = try CodexSettings(json: .object([:]))
        #expect(settings.binary == "codex")
        #expect(settings.approvalPolicy == "never")
        #expect(settings.sandbox == "workspace-write")
        #expect(settings.interruptGraceMilliseconds == 5000 && settings.shutdownGraceMilliseconds == 5000)
        #expect(settings.requestTimeoutMilliseconds == 60_000)
        #expect(CodexLaunch.codexArguments(settings: settings) == ["app-server"])
    }

    @Test("Every key is read; fractions of seconds are kept")
    func everyKey() throws {
        let settings = try CodexSettings(json: .object([
            "binary": .string("/opt/codex"), "extraArgs": .array([.string("-c"), .string("model_reasoning_effort=\"low\"")]),
            "env": .object(["CODEX_HOME": .string("/home/me/.codex")]), "approvalPolicy": .string("untrusted"),
            "sandbox": .string("danger-full-access"), "docker": .string("/usr/bin/docker"), "containerUser": .string("agent"),
            "containerBinary": .string("/usr/local/bin/codex"), "containerWorkdir": .string("/src"),
            "interruptGraceSeconds": .number("0.25"), "shutdownGraceSeconds": .int(2), "requestTimeoutSeconds": .int(30),
        ]))
        #expect(settings.binary == "/opt/codex")
        #expect(settings.extraArgs == ["-c", "model_reasoning_effort=\"low\""])
        #expect(settings.env == ["CODEX_HOME": "/home/me/.codex"])
        #expect(settings.approvalPolicy == "untrusted" && settings.sandbox == "danger-full-access")
        #expect(settings.dockerBinary == "/usr/bin/docker" && settings.containerUser == "agent")
        #expect(settings.containerBinary == "/usr/local/bin/codex" && settings.containerWorkdir == "/src")
        #expect(settings.interruptGraceMilliseconds == 250 && settings.shutdownGraceMilliseconds == 2000)
        #expect(settings.requestTimeoutMilliseconds == 30_000)
    }

    @Test("Bad values are refused with the key and the reason", arguments: [
        (JSONValue.object(["approvalPolicy": .string("on-failure")]), "settings.approvalPolicy: 'on-failure' is not one of never, on-request, untrusted"),
        (.object(["sandbox": .string("workspaceWrite")]), "settings.sandbox: 'workspaceWrite' is not one of read-only, workspace-write, danger-full-access"),
        (.object(["extraArgs": .array([.string("app-server")])]), "settings.extraArgs[0]: 'app-server' is set by the adapter and may not be given here"),
        (.object(["extraArgs": .array([.string("--model=gpt-5.5")])]), "settings.extraArgs[0]: '--model' is set by the adapter and may not be given here"),
        (.object(["binary": .int(3)]), "settings.binary: must be a non-empty string, not a number"),
        (.object(["interruptGraceSeconds": .string("soon")]), "settings.interruptGraceSeconds: must be a number of seconds from 0 to 600, not a string"),
        (.object(["dockerBinary": .string("docker")]), "settings.dockerBinary: renamed to 'docker'"),
        (.object(["model": .string("gpt-5.5")]), "settings.model: unknown setting (known: approvalPolicy, binary, containerBinary, containerUser, containerWorkdir, docker, env, extraArgs, interruptGraceSeconds, requestTimeoutSeconds, sandbox, shutdownGraceSeconds)"),
    ])
    func refused(_ json: JSONValue, _ message: String) {
        #expect(throws: AdapterError(.invalidSettings, message)) { try CodexSettings(json: json) }
    }
}
