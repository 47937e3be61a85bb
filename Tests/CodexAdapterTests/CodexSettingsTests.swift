import Testing
import SwitchboardAdapterAPI
import SwitchboardProcess
@testable import CodexAdapter

@Suite("Codex settings")
struct CodexSettingsTests {
    @Test("Defaults: codex on PATH, approvals on-request, workspace-write sandbox, 5 s graces")
    func defaults() throws {
        let settings = try CodexSettings(json: .object([:]))
        #expect(settings.binary == "codex")
        #expect(settings.approvalPolicy == "on-request")
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

@Suite("Codex launch")
struct CodexLaunchTests {
    @Test("Host mode: the binary with app-server and the extra arguments, in the project, with env added")
    func host() throws {
        var settings = CodexSettings()
        settings.binary = "/opt/codex"
        settings.extraArgs = ["-c", "model_reasoning_effort=\"low\""]
        settings.env = ["CODEX_HOME": "/home/me/.codex"]
        let options = StartOptions(workspaceName: "@host", projectPath: "/src/app", isHost: true)
        let launch = CodexLaunch.make(settings: settings, options: options, hostEnvironment: ["PATH": "/bin", "HOME": "/home/me"])
        #expect(launch.program == "/opt/codex")
        #expect(launch.arguments == ["app-server", "-c", "model_reasoning_effort=\"low\""])
        #expect(launch.workingDirectory == "/src/app")
        #expect(launch.environment == ["PATH": "/bin", "HOME": "/home/me", "CODEX_HOME": "/home/me/.codex"])
        #expect(launch.settingKey == "settings.binary")
        #expect(CodexLaunch.threadDirectory(settings: settings, options: options, hostEnvironment: [:]) == "/src/app")
        let noProject = CodexLaunch.make(settings: settings, options: StartOptions(workspaceName: "@host", isHost: true), hostEnvironment: ["HOME": "/home/me"])
        #expect(noProject.workingDirectory == "/home/me")
    }

    @Test("Container mode: docker exec with the variables by name only")
    func container() throws {
        var settings = CodexSettings()
        settings.env = ["OPENAI_API_KEY": "sk-secret", "CODEX_HOME": "/root/.codex"]
        settings.containerUser = "agent"
        let options = StartOptions(workspaceName: "alpha", containerName: "workspace-alpha", isHost: false)
        let launch = CodexLaunch.make(settings: settings, options: options, hostEnvironment: ["PATH": "/bin"])
        #expect(launch.program == "docker" && launch.settingKey == "settings.docker")
        #expect(launch.arguments == ["exec", "-i", "-u", "agent", "-w", "/workspace", "-e", "CODEX_HOME", "-e", "OPENAI_API_KEY",
                                     "workspace-alpha", "codex", "app-server"])
        #expect(launch.environment["OPENAI_API_KEY"] == "sk-secret")
        #expect(CodexLaunch.threadDirectory(settings: settings, options: options, hostEnvironment: [:]) == "/workspace")
    }

    @Test("The thread parameters: approval policy, sandbox, directory and model, never a model provider")
    func threadParams() {
        let params = CodexProtocol.threadParams(settings: CodexSettings(), directory: "/src", model: "gpt-5.5")
        #expect(params == ["approvalPolicy": .string("on-request"), "sandbox": .string("workspace-write"), "cwd": .string("/src"), "model": .string("gpt-5.5")])
    }

    @Test("Logged out only when credentials are needed, no account is there and no API key is in the environment")
    func loggedOut() throws {
        let none = try JSONValue(parsing: #"{"account":null,"requiresOpenaiAuth":true}"#)
        #expect(CodexProtocol.isLoggedOut(account: none, environment: [:]))
        #expect(CodexProtocol.isLoggedOut(account: none, environment: ["OPENAI_API_KEY": ""]))
        #expect(!CodexProtocol.isLoggedOut(account: none, environment: ["OPENAI_API_KEY": "sk-x"]))
        #expect(!CodexProtocol.isLoggedOut(account: try JSONValue(parsing: #"{"account":null,"requiresOpenaiAuth":false}"#), environment: [:]))
        #expect(!CodexProtocol.isLoggedOut(account: try JSONValue(parsing: #"{"account":{"type":"apiKey"},"requiresOpenaiAuth":true}"#), environment: [:]))
    }
}
