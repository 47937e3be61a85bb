/// A request from the agent for a person's decision: may a tool run (a *permission*), or what
/// is the answer to the agent's question (a *question*).
///
/// An adapter asks with ``AdapterEventChannel/ask(_:)`` and gets a ``DecisionAnswer`` back
/// (or `nil` when the request was withdrawn). The session manager gives every request a
/// stable id of its own, shows it to every client, applies the operator's rules, records it
/// in the audit log, and passes the first valid answer back exactly once.
public struct DecisionRequest: Sendable, Hashable {
    /// What kind of decision is asked for.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// May a tool run with this input? Decided by one of ``DecisionRequest/options``.
        case permission
        /// The agent asks the person something; answered with ``DecisionAnswer/answers``.
        case question
    }

    /// One question of a ``Kind/question`` request.
    public struct Question: Sendable, Hashable {
        /// One choice offered for a question.
        public struct Option: Sendable, Hashable {
            /// The text that is the answer when this option is chosen.
            public var label: String
            /// What the option means, if the agent says.
            public var description: String?

            public init(label: String, description: String? = nil) {
                self.label = label
                self.description = description
            }
        }

        /// The question, as the agent asks it; the key of its answer in ``DecisionAnswer/answers``.
        public var question: String
        /// A short heading, if the agent gives one.
        public var header: String?
        /// The choices offered (a person may also answer in their own words).
        public var options: [Option]
        /// Whether several options may be chosen (their labels are then joined with ", ").
        public var multiSelect: Bool

        public init(question: String, header: String? = nil, options: [Option] = [], multiSelect: Bool = false) {
            self.question = question
            self.header = header
            self.options = options
            self.multiSelect = multiSelect
        }
    }

    /// The plugin's own id for the request: 1 to 128 bytes, unique within the adapter.
    public var id: String
    /// Permission or question.
    public var kind: Kind
    /// The tool that would run (`Bash`, `Edit`, `AskUserQuestion`, …).
    public var toolName: String
    /// The agent's id of the tool call, when it has one.
    public var toolId: String?
    /// The tool's input, as the agent gave it (an object).
    public var input: JSONValue
    /// One line for people: the command, the file, the question.
    public var summary: String
    /// The decisions the agent accepts, from ``Decision``'s vocabulary (`allow`,
    /// `allow_session`, `deny`); for a question, `answer` and `deny`.
    public var options: [String]
    /// What the operator's rules match against: the command of a shell tool, the path of a
    /// file tool. `nil` when neither applies (rules with an `input` pattern then never match).
    public var subject: String?
    /// The questions of a ``Kind/question`` request.
    public var questions: [Question]

    public init(
        id: String,
        kind: Kind = .permission,
        toolName: String,
        toolId: String? = nil,
        input: JSONValue = .object([:]),
        summary: String,
        options: [String] = [Decision.allow, Decision.deny],
        subject: String? = nil,
        questions: [Question] = []
    ) {
        self.id = id
        self.kind = kind
        self.toolName = toolName
        self.toolId = toolId
        self.input = input
        self.summary = summary
        self.options = options
        self.subject = subject
        self.questions = questions
    }

    /// The first problem that makes this request unusable, as a sentence; `nil` when it is
    /// well-formed. The host refuses a malformed request with this text.
    public var problem: String? {
        if id.isEmpty || id.utf8.count > 128 { return "its id must be 1 to 128 bytes long" }
        if toolName.isEmpty { return "it names no tool" }
        if options.isEmpty { return "it offers no options" }
        if options.contains(where: { $0.isEmpty || $0.utf8.count > 64 }) { return "an option is empty or longer than 64 bytes" }
        if Set(options).count != options.count { return "it offers an option twice" }
        if kind == .question && questions.isEmpty { return "a question request has no questions" }
        if questions.contains(where: { $0.question.isEmpty }) { return "a question is empty" }
        return nil
    }
}

/// The decisions' shared vocabulary: what ``DecisionRequest/options`` and
/// ``DecisionAnswer/decision`` hold.
public enum Decision {
    /// Let the tool run this once.
    public static let allow = "allow"
    /// Let the tool run, and let the agent remember it for the rest of the session (each
    /// agent's own mechanism: Claude's permission suggestions, Codex's `acceptForSession`, …).
    public static let allowSession = "allow_session"
    /// Refuse; ``DecisionAnswer/message`` tells the agent why.
    public static let deny = "deny"
    /// Answer a question with ``DecisionAnswer/answers``.
    public static let answer = "answer"
}

/// The answer to a ``DecisionRequest``, as the host passes it to the adapter.
public struct DecisionAnswer: Sendable, Hashable {
    /// The ``DecisionRequest/id`` of the request answered (the plugin's id).
    public var id: String
    /// One of the request's ``DecisionRequest/options``.
    public var decision: String
    /// Sent to the agent with a `deny` (why), if given.
    public var message: String?
    /// A question's answers: question text → the chosen label (or the person's own words).
    public var answers: [String: String]

    public init(id: String, decision: String, message: String? = nil, answers: [String: String] = [:]) {
        self.id = id
        self.decision = decision
        self.message = message
        self.answers = answers
    }

    /// Whether the decision lets the tool run (`allow`, `allow_session` or `answer`).
    public var allows: Bool {
        decision == Decision.allow || decision == Decision.allowSession || decision == Decision.answer
    }
}
