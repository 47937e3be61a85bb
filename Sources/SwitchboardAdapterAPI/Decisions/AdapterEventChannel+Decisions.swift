/// Asking for decisions through the channel: the adapter awaits ``ask(_:)``; the host's
/// answer arrives through ``answer(_:)`` (which a ``ChannelBackedAdapter`` gets as its
/// ``AgentAdapter/answer(_:)`` for free); ``withdraw(_:reason:)`` closes a request the agent
/// no longer waits for. ``TurnRunner`` withdraws what is still open when a turn is
/// interrupted or ends, and ``finish()`` what is open at dispose.
extension AdapterEventChannel {
    /// Reports `request` to the host and waits for the answer.
    ///
    /// - Returns: the host's answer, or `nil` when the request was withdrawn (by
    ///   ``withdraw(_:reason:)``, the end of the turn, dispose) or the waiting task was
    ///   cancelled (the request is then withdrawn with reason `turn_end`). Also `nil` at once
    ///   when a request with the same id is open or the channel has finished.
    public func ask(_ request: DecisionRequest) async -> DecisionAnswer? {
        let slot = OneShot<DecisionAnswer?>()
        guard open(request, slot) else { return nil }
        guard let outcome = await slot.wait() else {
            withdraw(request.id, reason: .turnEnded)
            return nil
        }
        return outcome
    }

    /// Passes the host's answer to the waiting ``ask(_:)``.
    /// - Throws: ``AdapterError`` `unknownRequest` when no request with that id is open
    ///   (answered already, withdrawn, or never asked).
    public func answer(_ answer: DecisionAnswer) throws(AdapterError) {
        guard let slot = takeAsk(answer.id) else {
            throw AdapterError(.unknownRequest, "No open decision request has the id '\(answer.id)': it was answered or withdrawn already, or never asked.")
        }
        slot.set(answer)
    }

    /// Closes an open request: its ``ask(_:)`` returns `nil` and the host is told why.
    /// Does nothing for an id that is not open.
    public func withdraw(_ id: String, reason: DecisionWithdrawal) {
        guard let slot = takeAsk(id, reporting: reason) else { return }
        slot.set(nil)
    }

    /// Withdraws every open request.
    public func withdrawAll(reason: DecisionWithdrawal) {
        for id in openDecisionIDs { withdraw(id, reason: reason) }
    }
}
