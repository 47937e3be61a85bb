import Testing
import SwitchboardAdapterAPI
import SwitchboardCore

@Suite("Approval rules")
struct ApprovalPolicyTests {
    static func bash(_ command: String, options: [String] = ["allow", "allow_session", "deny"]) -> DecisionRequest {
        DecisionRequest(id: "a", toolName: "Bash", input: .object(["command": .string(command)]), summary: command, options: options, subject: command)
    }

    @Test("Globs match the whole text: * any run, ? one character, \\ escapes", arguments: [
        ("git status*", "git status", true), ("git status*", "git status --short", true), ("git status*", "sudo git status", false),
        ("*.swift", "Sources/a/b.swift", true), ("*.swift", "a.swift.bak", false), ("a?c", "abc", true), ("a?c", "ac", false),
        ("\\*", "*", true), ("\\*", "x", false), ("", "", true), ("", "x", false), ("*", "", true), ("**a**b", "xxaxxb", true), ("**a**b", "xxaxxbxx", false),
        ("rm -rf *", "rm -rf /", true), ("a*a*a*a*a*b", String(repeating: "a", count: 200), false),
    ])
    func globs(pattern: String, subject: String, matches: Bool) {
        #expect(GlobPattern(pattern).matches(subject) == matches)
    }

    @Test("The first matching rule decides; agent and tool match exactly; the default decides the rest")
    func firstMatchWins() {
        let policy = ApprovalPolicy(rules: [
            .init(agent: "claude", tool: "Bash", input: "git status*", decision: .allow),
            .init(tool: "Read", decision: .allow),
            .init(tool: "Bash", input: "rm -rf *", decision: .deny, message: "Never."),
            .init(tool: "Bash", decision: .ask),
        ])
        #expect(policy.evaluate(Self.bash("git status"), agentType: "claude") == .decided(decision: "allow", message: nil, rule: 1))
        #expect(policy.evaluate(Self.bash("git status"), agentType: "codex") == .ask)
        let read = DecisionRequest(id: "r", toolName: "Read", summary: "x", subject: "/etc/passwd")
        #expect(policy.evaluate(read, agentType: "codex") == .decided(decision: "allow", message: nil, rule: 2))
        #expect(policy.evaluate(Self.bash("rm -rf /"), agentType: "claude") == .decided(decision: "deny", message: "Never.", rule: 3))
        let readLower = DecisionRequest(id: "r", toolName: "read", summary: "x")
        #expect(policy.evaluate(readLower, agentType: "codex") == .ask)
        let allowAll = ApprovalPolicy(defaultDecision: .allow)
        #expect(allowAll.evaluate(Self.bash("anything"), agentType: "x") == .decided(decision: "allow", message: nil, rule: nil))
    }

    @Test("An allow pattern never allows a chained or redirected command; a deny pattern denies any chained part")
    func chainedCommands() {
        let policy = ApprovalPolicy(rules: [
            .init(tool: "Bash", input: "git status*", decision: .allow),
            .init(tool: "Bash", input: "echo * > out.txt", decision: .allow),
            .init(tool: "Bash", input: "rm -rf *", decision: .deny),
        ])
        for command in ["git status; reboot", "git status && curl x | sh", "git status `reboot`", "git status $(reboot)", "git status\nreboot", "git status > /etc/x"] {
            #expect(policy.evaluate(Self.bash(command), agentType: "a") == .ask, "\(command)")
        }
        #expect(policy.evaluate(Self.bash("echo hi > out.txt"), agentType: "a") == .decided(decision: "allow", message: nil, rule: 2))
        for command in ["cd /tmp && rm -rf x", "ls; rm -rf /", "true | rm -rf y"] {
            #expect(policy.evaluate(Self.bash(command), agentType: "a") == .decided(decision: "deny", message: nil, rule: 3), "\(command)")
        }
    }

    @Test("A verdict the agent does not offer means asking; questions are always asked; no subject, no input match")
    func verdictsOutsideOptions() {
        let policy = ApprovalPolicy(defaultDecision: .allow, rules: [.init(tool: "Bash", input: "x*", decision: .deny)])
        #expect(policy.evaluate(Self.bash("x1", options: ["allow"]), agentType: "a") == .ask)
        let question = DecisionRequest(id: "q", kind: .question, toolName: "AskUserQuestion", summary: "?", options: ["answer", "deny"],
                                       questions: [.init(question: "?")])
        #expect(policy.evaluate(question, agentType: "a") == .ask)
        let noSubject = DecisionRequest(id: "n", toolName: "Bash", summary: "x1")
        #expect(policy.evaluate(noSubject, agentType: "a") == .decided(decision: "allow", message: nil, rule: nil))
    }

    @Test("The config's approvals object is read with every problem at its key path")
    func config() throws {
        let good = try SwitchboardConfig.parse("""
        {"approvals": {"default": "deny", "timeoutSeconds": 60, "onTimeout": "allow", "rules": [
          {"agent": "claude", "tool": "Bash", "input": "git status*", "decision": "allow"},
          {"tool": "Bash", "input": "rm -rf *", "decision": "deny", "message": "Never."}]}}
        """, baseDirectory: "/", bundledPluginDirectory: "/")
        #expect(good.approvals.defaultDecision == .deny && good.approvals.timeout == .seconds(60) && good.approvals.onTimeout == .allow)
        #expect(good.approvals.rules.count == 2 && good.approvals.rules[1].message == "Never." && good.approvals.rules[0].input?.text == "git status*")
        #expect(SwitchboardConfig.defaults(bundledPluginDirectory: "/").approvals == ApprovalPolicy())

        do {
            _ = try SwitchboardConfig.parse("""
            {"approvals": {"default": "maybe", "timeoutSeconds": 0, "onTimeout": "ask", "colour": 1, "rules": [
              {"tool": "Bash"}, {"tool": 3, "decision": "allow"}, {"decision": "allow", "message": "hi"}, "x",
              {"agent": "Not A Type", "decision": "deny", "when": 1}]}}
            """, baseDirectory: "/", bundledPluginDirectory: "/")
            Issue.record("a bad approvals object was accepted")
        } catch {
            let lines = error.issues.map(\.description)
            #expect(lines == [
                "approvals.colour: unknown key (known keys: default, onTimeout, rules, timeoutSeconds)",
                "approvals.default: must be one of \"ask\", \"allow\", \"deny\", not \"maybe\"",
                "approvals.onTimeout: must be one of \"deny\", \"allow\", not \"ask\"",
                "approvals.timeoutSeconds: must be a whole number of seconds from 1 to 604800, not 0",
                "approvals.rules[0].decision: is required (\"allow\", \"deny\" or \"ask\")",
                "approvals.rules[1].tool: must be a non-empty string, not 3",
                "approvals.rules[2].message: is sent to the agent with a deny; this rule does not deny",
                "approvals.rules[3]: must be an object such as {\"tool\": \"Read\", \"decision\": \"allow\"}, not a string",
                "approvals.rules[4].when: unknown key (known keys: agent, decision, input, message, tool)",
                "approvals.rules[4].agent: must be an agent type name, not \"Not A Type\"",
            ], "\(lines)")
        }
    }
}
