/// The bookkeeping requirements of ``AgentAdapter`` answered from the channel, so an adapter
/// that conforms to ``ChannelBackedAdapter`` writes only its `eventChannel`.
extension ChannelBackedAdapter {
    /// The channel's events.
    public var events: AsyncStream<AdapterEvent> { eventChannel.events }

    /// The agent session id the channel last recorded.
    public var agentSessionId: String? { eventChannel.agentSessionId }

    /// The status the channel last reported.
    public var status: SessionStatus { eventChannel.status }

    /// Passes the answer to the channel's waiting ``AdapterEventChannel/ask(_:)``.
    public func answer(_ answer: DecisionAnswer) async throws {
        try eventChannel.answer(answer)
    }
}
