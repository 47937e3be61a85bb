import SwitchboardAdapterAPI

extension SwitchboardConfig {
    /// The keys of the `approvals` object.
    public static let approvalsKeys: [String] = ["default", "onTimeout", "rules", "timeoutSeconds"]
    /// The keys of one rule.
    public static let approvalRuleKeys: [String] = ["agent", "decision", "input", "message", "tool"]

    /// Reads `approvals`; reports every problem with its key path and returns `nil` if
    /// there was one.
    static func parseApprovals(_ value: JSONValue, issue: (String, String) -> Void) -> ApprovalPolicy? {
        guard let object = value.objectValue else {
            issue("approvals", "must be an object, not \(value.kindDescription)")
            return nil
        }
        var policy = ApprovalPolicy()
        var ok = true
        func problem(_ keyPath: String, _ text: String) {
            issue(keyPath, text)
            ok = false
        }
        for key in object.keys.sorted() where !approvalsKeys.contains(key) {
            problem("approvals.\(key)", "unknown key (known keys: \(approvalsKeys.joined(separator: ", ")))")
        }
        func verdict(_ keyPath: String, _ value: JSONValue, allowed: [ApprovalPolicy.Verdict]) -> ApprovalPolicy.Verdict? {
            if let name = value.stringValue, let verdict = ApprovalPolicy.Verdict(rawValue: name), allowed.contains(verdict) {
                return verdict
            }
            problem(keyPath, "must be one of \(allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), not \(value.jsonText)")
            return nil
        }
        if let value = object["default"], let v = verdict("approvals.default", value, allowed: [.ask, .allow, .deny]) {
            policy.defaultDecision = v
        }
        if let value = object["onTimeout"], let v = verdict("approvals.onTimeout", value, allowed: [.deny, .allow]) {
            policy.onTimeout = v
        }
        if let value = object["timeoutSeconds"] {
            if let n = value.intValue, (1...ApprovalPolicy.maximumTimeoutSeconds).contains(n) {
                policy.timeout = .seconds(n)
            } else {
                problem("approvals.timeoutSeconds", "must be a whole number of seconds from 1 to \(ApprovalPolicy.maximumTimeoutSeconds), not \(value.jsonText)")
            }
        }
        if let value = object["rules"] {
            if let list = value.arrayValue {
                for (index, element) in list.enumerated() {
                    if let rule = parseRule(element, keyPath: "approvals.rules[\(index)]", problem: problem) {
                        policy.rules.append(rule)
                    }
                }
            } else {
                problem("approvals.rules", "must be an array of rules, not \(value.kindDescription)")
            }
        }
        return ok ? policy : nil
    }

    private static func parseRule(_ value: JSONValue, keyPath: String, problem: (String, String) -> Void) -> ApprovalPolicy.Rule? {
        guard let object = value.objectValue else {
            problem(keyPath, "must be an object such as {\"tool\": \"Read\", \"decision\": \"allow\"}, not \(value.kindDescription)")
            return nil
        }
        var ok = true
        for key in object.keys.sorted() where !approvalRuleKeys.contains(key) {
            problem("\(keyPath).\(key)", "unknown key (known keys: \(approvalRuleKeys.joined(separator: ", ")))")
            ok = false
        }
        func text(_ key: String) -> String? {
            guard let value = object[key] else { return nil }
            guard let string = value.stringValue, !string.isEmpty else {
                problem("\(keyPath).\(key)", "must be a non-empty string, not \(value.jsonText)")
                ok = false
                return nil
            }
            return string
        }
        let agent = text("agent"), tool = text("tool"), input = text("input"), message = text("message")
        if let agent, AgentTypeName.problem(with: agent) != nil {
            problem("\(keyPath).agent", "must be an agent type name, not \"\(InputText.escaped(agent))\"")
            ok = false
        }
        var decision: ApprovalPolicy.Verdict?
        if let value = object["decision"] {
            if let name = value.stringValue, let verdict = ApprovalPolicy.Verdict(rawValue: name) {
                decision = verdict
            } else {
                problem("\(keyPath).decision", "must be one of \"allow\", \"deny\", \"ask\", not \(value.jsonText)")
                ok = false
            }
        } else {
            problem("\(keyPath).decision", "is required (\"allow\", \"deny\" or \"ask\")")
            ok = false
        }
        if message != nil && decision != .deny {
            problem("\(keyPath).message", "is sent to the agent with a deny; this rule does not deny")
            ok = false
        }
        guard ok, let decision else { return nil }
        return ApprovalPolicy.Rule(agent: agent, tool: tool, input: input, decision: decision, message: message)
    }
}
