import SwitchboardAdapterAPI

/// The operator's approval rules (the config's `approvals` object): checked, in order, for
/// every permission request before anyone is asked.
///
/// ```json
/// "approvals": {
///   "default": "ask", "timeoutSeconds": 900, "onTimeout": "deny",
///   "rules": [
///     {"agent": "claude", "tool": "Bash", "input": "git status*", "decision": "allow"},
///     {"tool": "Read", "decision": "allow"},
///     {"tool": "Bash", "input": "rm -rf *", "decision": "deny", "message": "Never."}
///   ]
/// }
/// ```
///
/// `agent` and `tool` match exactly; `input` is a ``GlobPattern`` matched against the
/// request's ``DecisionRequest/subject`` (a shell command, a file path). The first rule that
/// matches decides; when none does, ``defaultDecision`` does (`ask` by default). Questions
/// are never decided by rules: a person answers them (or the timeout).
///
/// Two safety rules keep an allow rule from allowing more than it says:
/// - an **allow** rule with an `input` pattern does not match a subject that chains commands
///   or redirects (`;`, `&`, `|`, `` ` ``, `$(`, `>`, `<`, a newline) unless the pattern itself
///   spells that operator: `git status*` does not allow `git status; rm -rf ~`;
/// - a **deny** rule with an `input` pattern matches the whole subject *or any one of its
///   chained commands*: `rm -rf *` denies `cd /tmp && rm -rf x`.
public struct ApprovalPolicy: Sendable, Hashable {
    /// What a rule, or the default, decides.
    public enum Verdict: String, Sendable, Hashable, CaseIterable {
        /// Ask the people attached to the session.
        case ask
        /// Let the tool run (`allow`).
        case allow
        /// Refuse (`deny`), with the rule's message.
        case deny
    }

    /// One rule.
    public struct Rule: Sendable, Hashable {
        /// The agent type it applies to; every type when `nil`.
        public var agent: String?
        /// The tool name it applies to; every tool when `nil`.
        public var tool: String?
        /// The pattern the request's subject must match; any subject when `nil`.
        public var input: GlobPattern?
        /// What it decides.
        public var decision: Verdict
        /// Sent to the agent with a `deny`.
        public var message: String?

        public init(agent: String? = nil, tool: String? = nil, input: String? = nil, decision: Verdict, message: String? = nil) {
            self.agent = agent
            self.tool = tool
            self.input = input.map(GlobPattern.init)
            self.decision = decision
            self.message = message
        }
    }

    /// The outcome of checking a request.
    public enum Outcome: Sendable, Hashable {
        /// Ask people.
        case ask
        /// Decided by rule number `rule` (1-based), or by the default when `rule` is `nil`.
        case decided(decision: String, message: String?, rule: Int?)
    }

    /// What happens when no rule matches.
    public var defaultDecision: Verdict
    /// How long a request waits for a person before ``onTimeout`` decides it.
    public var timeout: Duration
    /// The decision a request gets when nobody answered in time (`deny` or `allow`).
    public var onTimeout: Verdict
    /// The rules, in order.
    public var rules: [Rule]

    /// The built-in policy: ask for everything, deny after 15 minutes.
    public init(defaultDecision: Verdict = .ask, timeout: Duration = .seconds(900), onTimeout: Verdict = .deny, rules: [Rule] = []) {
        self.defaultDecision = defaultDecision
        self.timeout = timeout
        self.onTimeout = onTimeout
        self.rules = rules
    }

    /// The longest `timeoutSeconds` (one week).
    public static let maximumTimeoutSeconds = 7 * 24 * 3600

    /// Checks `request` from an agent of type `agentType`.
    public func evaluate(_ request: DecisionRequest, agentType: String) -> Outcome {
        guard request.kind == .permission else { return .ask }
        for (index, rule) in rules.enumerated() where rule.applies(to: request, agentType: agentType) {
            return outcome(rule.decision, message: rule.message, rule: index + 1, options: request.options)
        }
        return outcome(defaultDecision, message: defaultDecision == .deny ? "Denied by the server's approval policy." : nil, rule: nil, options: request.options)
    }

    /// A verdict as an outcome; a verdict the agent does not accept (not among its
    /// options) means asking.
    private func outcome(_ verdict: Verdict, message: String?, rule: Int?, options: [String]) -> Outcome {
        switch verdict {
        case .ask: return .ask
        case .allow, .deny:
            guard options.contains(verdict.rawValue) else { return .ask }
            return .decided(decision: verdict.rawValue, message: verdict == .deny ? message : nil, rule: rule)
        }
    }

    /// The text between which commands are chained, or that redirects.
    static let shellOperators = [";", "&", "|", "`", "$(", ">", "<", "\n"]
}

extension ApprovalPolicy.Rule {
    /// Whether this rule matches `request`.
    func applies(to request: DecisionRequest, agentType: String) -> Bool {
        if let agent, agent != agentType { return false }
        if let tool, tool != request.toolName { return false }
        guard let input else { return true }
        guard let subject = request.subject else { return false }
        switch decision {
        case .allow, .ask:
            let spelled = input.literalText
            for op in ApprovalPolicy.shellOperators where subject.contains(op) && !spelled.contains(op) {
                return false
            }
            return input.matches(subject)
        case .deny:
            return input.matches(subject) || Self.segments(of: subject).contains(where: input.matches)
        }
    }

    /// The commands of a chained shell command, trimmed: `a && b | c` → `a`, `b`, `c`.
    static func segments(of command: String) -> [String] {
        var parts = [command]
        for op in ApprovalPolicy.shellOperators {
            parts = parts.flatMap { $0.split(separator: op).map(String.init) }
        }
        return parts.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
