import SwitchboardAdapterAPI

/// A turn the suite can ask for: the settings of the adapter that runs it (``settings`` of
/// the inputs when `nil`) and the message that starts it.
public struct ConformanceTurn: Sendable {
    /// Settings for the adapter, or `nil` for ``ConformanceInputs/settings``.
    public var settings: JSONValue?
    /// The user message.
    public var prompt: String

    public init(settings: JSONValue? = nil, prompt: String) {
        self.settings = settings
        self.prompt = prompt
    }
}

/// What the suite needs to know about one adapter: how to make it, how to make its turns
/// long or failing, and how to see which model a turn used.
///
/// Adapters differ in what makes a turn last long enough to interrupt, or fail — a script, a
/// setting, a prompt — so the caller says. Every field has a default that works for an
/// adapter that needs no settings; a check whose inputs are missing reports what it could
/// not verify rather than pretending.
public struct ConformanceInputs: Sendable {
    /// Settings for every adapter the suite makes, unless a turn says otherwise.
    public var settings: JSONValue = .object([:])
    /// The options for `start`.
    public var startOptions = StartOptions(workspaceName: "conformance", isHost: true)
    /// A message whose turn ends by itself, in `done` or an error, within ``turnTimeout``.
    public var prompt = "Hello from the conformance suite."
    /// A turn that keeps running until it is interrupted, or for at least a few seconds.
    /// The suite refuses a second message and interrupts during it; after it, ``prompt``
    /// must complete on the same adapter. Without it the suite uses ``settings`` and
    /// ``prompt`` and fails the checks if that turn ends before it could be interrupted.
    public var longTurn: ConformanceTurn?
    /// A turn that ends in an error (status `error`); after it, ``prompt`` must work on the
    /// same adapter. Without it, errors during a turn are not exercised (the report says so).
    public var failingTurn: ConformanceTurn?
    /// A turn during which the agent asks for a permission decision (a request offering
    /// `allow`), and that goes on to its end once allowed. The decisions check answers one
    /// such request and withdraws another by interrupting. Without it only an answer for an
    /// unknown request is exercised (the report says so) — right for an agent that never asks.
    public var askingTurn: ConformanceTurn?
    /// Settings with which the adapter is created but `start` throws. Without them, a failed
    /// start is not exercised.
    public var failingStartSettings: JSONValue?
    /// Settings `create` must refuse with an `invalidSettings` error whose message names
    /// them (contains "settings"). Add values of the wrong type for your own keys; the
    /// defaults are values that are not objects at all.
    public var malformedSettings: [JSONValue] = [.string("not an object"), .array([.int(1)])]
    /// The two model names the model check sets, one before each of two turns.
    public var models = ("conformance-model-a", "conformance-model-b")
    /// Tells, from the events of one turn, which model the turn used (`nil`: it cannot
    /// tell). Without it the model check only verifies that `setModel` is accepted and the
    /// next turn completes. ``modelFromDoneMessage`` reads the `model` field of `done`.
    public var modelObserver: (@Sendable ([AdapterEvent]) -> String?)?
    /// Whether the adapter knows its agent session id after `start` and one turn. Set it to
    /// `false` for an agent that has no such id; the check then verifies only that the
    /// events and `agentSessionId` agree.
    public var expectsAgentSessionId = true
    /// An agent session id to resume: the adapter is started with it and must report it.
    /// `nil` skips the resume part of the check.
    public var resumeAgentSessionId: String?
    /// Checks that do not apply to this adapter, each with the reason (e.g. a placeholder
    /// whose `start` always fails). They are reported as not applicable, not run.
    public var notApplicable: [ConformanceCheck: String] = [:]
    /// How long a turn may take to end.
    public var turnTimeout: Duration = .seconds(30)
    /// How long one call (`start`, `sendMessage`, `interrupt`, `dispose`, …) may take to return.
    public var callTimeout: Duration = .seconds(15)

    /// Inputs with every default.
    public init() {}

    /// Reads the model from the `model` field of the turn's `done` message (as the scripted
    /// and the example plugins report it).
    public static let modelFromDoneMessage: @Sendable ([AdapterEvent]) -> String? = { events in
        for case .message(let message) in events.reversed() where message.type == .done {
            return message.extra["model"]?.stringValue
        }
        return nil
    }
}
