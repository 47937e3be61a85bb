import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// The web page in a real headless Chromium: `Tests/WebUITests/webui_test.py` drives it with
/// Selenium against a real `switchboard serve` with the scripted plugin. `.ci/setup` installs
/// Chromium, chromedriver and Selenium; in CI (`CI=true`) their absence fails the test,
/// elsewhere it skips it with a message.
@Suite("Web page in a real browser", .serialized, .childProcessGate)
struct WebPageBrowserTests {
    /// The Selenium version `.ci/install-selenium` installs.
    static let seleniumVersion = "4.40.0"

    /// The Python with Selenium: `$SWITCHBOARD_SELENIUM_PYTHON`, else the venv in the cache.
    static var python: String {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_SELENIUM_PYTHON"], !path.isEmpty { return path }
        return "\(CodexCLI.cacheDirectory)/selenium-\(seleniumVersion)/bin/python"
    }

    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What is missing to run the browser test, or `nil`.
    static var missing: String? {
        var missing: [String] = []
        if onPath("chromium") == nil { missing.append("chromium") }
        if onPath("chromedriver") == nil { missing.append("chromedriver (Debian's chromium-driver)") }
        if !FileManager.default.isExecutableFile(atPath: python) { missing.append("Selenium \(seleniumVersion) at \(python)") }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }

    static var inCI: Bool {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return !value.isEmpty && value != "false" && value != "0"
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("WebUITests/webui_test.py").path
    }

    /// The agent types the script uses: `claude` streams a Markdown reply with two tool
    /// calls (one failing) and echoes; `asker` asks to run a command; `quiz` asks a question;
    /// `hanger` runs until interrupted.
    static let agents = """
    {"claude": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": [{"echo": true, "done": {"costUsd": 0.0123, "usage": {"inputTokens": 1200, "outputTokens": 45}}, "messages": [
        {"type": "assistant", "content": "Let me look.", "messageId": "m1", "delayMs": 100},
        {"type": "tool_use", "content": "{\\"command\\":\\"ls\\"}", "toolName": "Bash", "toolId": "t1", "delayMs": 100},
        {"type": "tool_result", "content": "README.md\\nPackage.swift", "toolId": "t1", "isError": false, "delayMs": 100},
        {"type": "tool_use", "content": "{\\"command\\":\\"cat missing.txt\\"}", "toolName": "Bash", "toolId": "t2", "delayMs": 100},
        {"type": "tool_result", "content": "cat: missing.txt: No such file or directory", "toolId": "t2", "isError": true, "delayMs": 100},
        {"type": "assistant", "content": "Here is what I found:\\n\\n", "messageId": "m2", "delayMs": 100},
        {"type": "assistant", "content": "- `README.md`\\n- `Package.swift`\\n\\n", "messageId": "m2", "delayMs": 100},
        {"type": "assistant", "content": "Build it with\\n\\n```sh\\nswift build\\n```\\n\\n", "messageId": "m2", "delayMs": 100},
        {"type": "assistant", "content": "Be **careful**: see [the docs](https://example.com/docs), not [this](javascript:alert(1)) or <img src=x onerror=alert(1)>.", "messageId": "m2", "delayMs": 100}
      ]}]}},
     "asker": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": [{"messages": [
        {"ask": {"toolName": "Bash", "toolId": "t1", "input": {"command": "touch notes.txt"}, "options": ["allow", "allow_session", "deny"]}},
        {"type": "assistant", "content": "Created notes.txt."}]}]}},
     "quiz": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": [{"messages": [
        {"ask": {"toolName": "AskUserQuestion", "kind": "question", "questions": [{"question": "Which color?", "header": "Color", "options": [{"label": "Red"}, {"label": "Blue", "description": "the calm one"}]}]}},
        {"type": "assistant", "content": "Blue it is."}]}]}},
     "hanger": {"plugin": "libScriptedAdapter.so", "settings": {"loop": true, "turns": [{"messages": [{"type": "assistant", "content": "Working on it…"}], "hang": true}]}}}
    """

    @Test("Sign in, sessions, streaming, tools, permissions, inbox, queue, interrupt, reload, daemon restart, phone — in headless Chromium",
          .enabled(if: WebPageBrowserTests.missing == nil || WebPageBrowserTests.inCI, "Chromium, chromedriver or Selenium is missing (run bash .ci/setup); the browser test is skipped outside CI"),
          .timeLimit(.minutes(5)))
    func browser() async throws {
        if let missing = Self.missing {
            Issue.record("The browser test needs \(missing): run bash .ci/setup (it installs chromium, chromium-driver and Selenium).")
            return
        }
        let artifacts = NSTemporaryDirectory() + "switchboard-web-page-screenshots"
        try? FileManager.default.removeItem(atPath: artifacts)
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        print("Web page screenshots: \(artifacts)")

        // A small ring, so that a reload has to page the older history over HTTP.
        let daemon = try await LiveDaemon(agents: Self.agents, extraConfig: #", "messageBufferSize": 10"#)
        // The scripted agent does not look at the project path; one outside the temporary
        // directory keeps the screenshots fit for the docs.
        let project = "/src/demo-project"
        let run = try await SpawnedProcess.start(Self.python, [Self.script], environment: [
            "WEBUI_BASE_URL": "http://127.0.0.1:\(daemon.port)",
            "WEBUI_TOKEN": daemon.token,
            "WEBUI_DAEMON_PID": "\(daemon.process.pid)",
            "WEBUI_SWITCHBOARD": BuildProducts.executable("switchboard"),
            "WEBUI_CONFIG": daemon.directory.path + "/config.json",
            "WEBUI_PROJECT": project,
            "WEBUI_ARTIFACTS": artifacts,
            "PYTHONUNBUFFERED": "1",
        ])
        let status: Int32
        do {
            status = try await run.waitForExit(within: .seconds(240))
        } catch {
            run.terminate()
            Issue.record("The browser script did not finish in 240 s:\n\(run.lines.items.joined(separator: "\n"))\n\(run.stderr)")
            return
        }
        let output = run.lines.items.joined(separator: "\n")
        #expect(status == 0, "The browser script failed (screenshots in \(artifacts)):\n\(output)\n\(run.stderr)")
        #expect(run.lines.items.last == "webui: ok", "\(output)")
        for name in ["session-view", "permission-card", "inbox", "phone-session", "phone-sessions", "sessions-list"] {
            #expect(FileManager.default.fileExists(atPath: "\(artifacts)/\(name).png"), "no screenshot \(name).png")
        }
        // The daemon the script started again stopped with it; the first one is gone too.
        _ = try? await daemon.process.waitForExit(within: .seconds(30))
    }
}

/// `switchboard web`: the page's address for the running daemon.
@Suite("switchboard web", .serialized, .childProcessGate)
struct WebCommandTests {
    @Test("Prints the page's address with the token in the fragment; says so when no daemon runs")
    func printsAddress() async throws {
        let daemon = try await LiveDaemon(agents: #"{"claude": {"plugin": "libScriptedAdapter.so"}}"#)
        let config = try daemon.directory.write("client.json", """
        {"stateDirectory": "state", "server": {"port": \(daemon.port)}, "pluginDirectories": ["\(BuildProducts.directory)"]}
        """)
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = nil
        environment["WAYLAND_DISPLAY"] = nil
        environment["SWITCHBOARD_TOKEN"] = nil
        let printed = try ChildProcess.run(BuildProducts.executable("switchboard"), ["web", "--config", config], environment: environment)
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout == "http://127.0.0.1:\(daemon.port)/#token=\(daemon.token)\n")
        try await daemon.stop()
        let refused = try ChildProcess.run(BuildProducts.executable("switchboard"), ["web", "--config", config], environment: environment)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("No daemon answers at http://127.0.0.1:\(daemon.port): start it with `switchboard serve`"), "\(refused.stderr)")
    }
}
