import Synchronization

/// What a mock model API answers, request by request: the first rule whose text the prompt
/// contains, else the next queued reply, else the default. The mock model APIs share it.
final class ReplyScript<Reply: Sendable>: Sendable {
    private struct State {
        var queue: [Reply] = []
        var rules: [(promptContains: String, reply: Reply, afterToolResult: Reply?)] = []
        var defaultReply: Reply
        var next = 1
    }

    private let state: Mutex<State>

    init(default reply: Reply) { state = Mutex(State(defaultReply: reply)) }

    func enqueue(_ replies: [Reply]) { state.withLock { $0.queue.append(contentsOf: replies) } }

    /// A rule; with `afterToolResult`, a request that answers a tool call gets that instead.
    func addRule(_ reply: Reply, afterToolResult: Reply? = nil, whenPromptContains text: String) {
        state.withLock { $0.rules.append((text, reply, afterToolResult)) }
    }

    func setDefault(_ reply: Reply) { state.withLock { $0.defaultReply = reply } }

    var queuedCount: Int { state.withLock { $0.queue.count } }

    /// The reply to a request whose prompt is `prompt` (`nil` when no rule may apply) and that
    /// answers a tool call or not, and the request's number (1, 2, … in arrival order).
    func next(prompt: String?, answersToolCall: Bool = false) -> (reply: Reply, number: Int) {
        state.withLock { s in
            defer { s.next += 1 }
            if let prompt, let rule = s.rules.first(where: { prompt.contains($0.promptContains) }) {
                if let after = rule.afterToolResult, answersToolCall { return (after, s.next) }
                return (rule.reply, s.next)
            }
            return (s.queue.isEmpty ? s.defaultReply : s.queue.removeFirst(), s.next)
        }
    }
}
