import Testing
import SwitchboardAdapterAPI
import SwitchboardProcess
@testable import ClaudeAdapter

/// Settings validation and the command line, as values.
@Suite("Claude settings and command line")
struct ClaudeLaunchTests {
    static func settings(_ json: String) throws -> ClaudeSettings {
        try ClaudeSettings(json: try JSONValue(parsing: json))
    }

    @Test("Host mode: the streaming flags, --flag=value options, the project directory, settings.env and IS_SANDBOX")
    func hostMode() throws {
        let settings = try Self.settings(#"""
        {"binary":"/opt/claude","permissionMode":"acceptEdits","dangerouslySkipPermissions":true,"isSandbox":true,
         "extraArgs":["--max-turns=3"],"env":{"ANTHROPIC_BASE_URL":"http://127.0.0.1:9"}}
        """#)
        let launch = ClaudeLaunch.make(
            settings: settings, options: StartOptions(workspaceName: "@host", projectPath: "/src/app", isHost: true),
            model: "-weird-model", resume: "abc-123", hostEnvironment: ["HOME": "/root", "PATH": "/usr/bin"]
        )
        #expect(launch.program == "/opt/claude")
        #expect(launch.arguments == [
            "-p", "--input-format=stream-json", "--output-format=stream-json", "--verbose", "--include-partial-messages",
            "--model=-weird-model", "--resume=abc-123", "--permission-mode=acceptEdits", "--dangerously-skip-permissions",
            "--max-turns=3",
        ])
        #expect(launch.workingDirectory == "/src/app")
        #expect(launch.environment == ["HOME": "/root", "PATH": "/usr/bin", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "IS_SANDBOX": "1"])
    }

    @Test("Permission prompts go to Switchboard unless turned off or skipped altogether")
    func permissionPrompts() throws {
        let options = StartOptions(workspaceName: "@host", isHost: true)
        for (json, expected) in [
            ("{}", true), (#"{"askPermissions":false}"#, false), (#"{"dangerouslySkipPermissions":true}"#, false),
            (#"{"permissionMode":"bypassPermissions"}"#, false), (#"{"permissionMode":"acceptEdits"}"#, true),
        ] {
            let launch = ClaudeLaunch.make(settings: try Self.settings(json), options: options, model: nil, resume: nil, hostEnvironment: [:])
            #expect(launch.arguments.contains("--permission-prompt-tool=stdio") == expected, "\(json)")
        }
    }

    @Test("Host mode without a project path works in the home directory; no model, no resume, no IS_SANDBOX by default")
    func hostDefaults() throws {
        let launch = ClaudeLaunch.make(
            settings: ClaudeSettings(), options: StartOptions(workspaceName: "@host", isHost: true),
            model: nil, resume: nil, hostEnvironment: ["HOME": "/home/me"]
        )
        #expect(launch.program == "claude")
        #expect(launch.arguments == ClaudeLaunch.streamingArguments + ["--permission-prompt-tool=stdio"])
        #expect(launch.workingDirectory == "/home/me")
        #expect(launch.environment["IS_SANDBOX"] == nil)
    }

    @Test("Container mode: docker exec -i -u -w, variables passed by name, then claude and its arguments")
    func containerMode() throws {
        let settings = try Self.settings(#"""
        {"docker":"/usr/bin/docker","containerUser":"dev","isSandbox":true,"env":{"ANTHROPIC_API_KEY":"secret","HOME":"/home/dev"}}
        """#)
        let launch = ClaudeLaunch.make(
            settings: settings, options: StartOptions(workspaceName: "alpha", containerName: "workspace-alpha"),
            model: "opus", resume: nil, hostEnvironment: ["PATH": "/usr/bin"]
        )
        #expect(launch.program == "/usr/bin/docker")
        #expect(launch.arguments == [
            "exec", "-i", "-u", "dev", "-w", "/workspace", "-e", "ANTHROPIC_API_KEY", "-e", "HOME", "-e", "IS_SANDBOX=1",
            "workspace-alpha", "claude",
        ] + ClaudeLaunch.streamingArguments + ["--model=opus", "--permission-prompt-tool=stdio"])
        #expect(!launch.arguments.contains { $0.contains("secret") }, "values stay off the command line")
        #expect(launch.environment["ANTHROPIC_API_KEY"] == "secret")
        #expect(launch.workingDirectory == nil)
    }

    @Test("A missing binary names the path and the settings key")
    func missingBinary() throws {
        let absolute = ClaudeLaunch.make(settings: try Self.settings(#"{"binary":"/nonexistent/claude"}"#),
                                         options: StartOptions(workspaceName: "@host", isHost: true),
                                         model: nil, resume: nil, hostEnvironment: [:])
        #expect(throws: AdapterError(.agentFailure, "The claude binary '/nonexistent/claude' does not exist (set by settings.binary in the config).")) {
            try absolute.resolvedProgram()
        }
        let onPath = ClaudeLaunch.make(settings: try Self.settings(#"{"docker":"no-such-docker"}"#),
                                       options: StartOptions(workspaceName: "w", containerName: "c"),
                                       model: nil, resume: nil, hostEnvironment: ["PATH": "/nonexistent"])
        #expect(throws: AdapterError(.agentFailure, "The docker binary 'no-such-docker' was not found on PATH (/nonexistent); set settings.docker in the config to its full path.")) {
            try onPath.resolvedProgram()
        }
        let found = ClaudeLaunch.make(settings: try Self.settings(#"{"binary":"sh"}"#),
                                      options: StartOptions(workspaceName: "@host", isHost: true),
                                      model: nil, resume: nil, hostEnvironment: ["PATH": "/nonexistent:/bin:/usr/bin"])
        #expect(try found.resolvedProgram() == "/bin/sh")
    }

    @Test("Bad settings are refused with the key and the reason", arguments: [
        (#"[]"#, "settings: must be an object, not an array"),
        (#"{"binnary":"x"}"#, "settings.binnary: unknown setting (known: askPermissions, binary, containerBinary, containerUser, containerWorkdir, dangerouslySkipPermissions, docker, env, extraArgs, interruptGraceSeconds, isSandbox, permissionMode, shutdownGraceSeconds)"),
        (#"{"binary":""}"#, "settings.binary: must be a non-empty string, not an empty string"),
        (#"{"isSandbox":"yes"}"#, "settings.isSandbox: must be true or false, not a string"),
        (#"{"extraArgs":"--x"}"#, "settings.extraArgs: must be an array of strings, not a string"),
        (#"{"extraArgs":["--model=opus"]}"#, "settings.extraArgs[0]: '--model' is set by the adapter and may not be given here"),
        (#"{"env":{"A":1}}"#, "settings.env.A: must be a string, not a number"),
        (#"{"env":{"A=B":"x"}}"#, "settings.env: 'A=B' is not a valid environment variable name"),
        (#"{"permissionMode":"plan; rm -rf"}"#, "settings.permissionMode: 'plan; rm -rf' is not a permission mode (e.g. default, acceptEdits, plan, bypassPermissions)"),
        (#"{"interruptGraceSeconds":-1}"#, "settings.interruptGraceSeconds: must be a number of seconds from 0 to 600, not -1"),
        (#"{"interruptGraceMs":300}"#, "settings.interruptGraceMs: renamed to 'interruptGraceSeconds'"),
        (#"{"shutdownGraceMs":300}"#, "settings.shutdownGraceMs: renamed to 'shutdownGraceSeconds'"),
        (#"{"dockerBinary":"docker"}"#, "settings.dockerBinary: renamed to 'docker'"),
    ])
    func badSettings(json: String, message: String) throws {
        #expect(throws: AdapterError(.invalidSettings, message)) { try Self.settings(json) }
    }

    @Test("Input lines: a user turn and the interrupt control request")
    func inputLines() {
        #expect(String(decoding: ClaudeInput.userTurn("-rf \"quoted\"\nline"), as: UTF8.self)
                == #"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"-rf \"quoted\"\nline"}]}}"# + "\n")
        #expect(String(decoding: ClaudeInput.interrupt(requestId: "r-1"), as: UTF8.self)
                == #"{"type":"control_request","request_id":"r-1","request":{"subtype":"interrupt"}}"# + "\n")
    }
}
