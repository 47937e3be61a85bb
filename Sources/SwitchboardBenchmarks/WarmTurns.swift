import SwitchboardCore
import SwitchboardTesting

/// What a run of warm turns measured, in milliseconds per turn.
struct WarmTurns {
    /// Send → the client has the turn's first assistant message.
    var firstDelta: [Double] = []
    /// The mock wrote the first delta → the client has it (the adapter's and the CLI's share).
    var overhead: [Double] = []
    /// Send → the turn's end reached the client.
    var whole: [Double] = []
}

/// Runs `turns + 1` turns in session `id` (the first starts the agent and is not counted),
/// timing each through `clock`; `written` tells when the mock wrote the first delta of the
/// reply with a given message id.
func measureWarmTurns(
    _ manager: SessionManager, session id: String, clock: FirstDeltaClock, turns: Int,
    written: (String) -> ContinuousClock.Instant?
) async throws -> WarmTurns {
    var measured = WarmTurns()
    for turn in 0...turns {
        let sent = ContinuousClock.now
        let before = clock.arrivals.items.count
        let endsBefore = clock.turnEnds.items.count
        try await manager.send(id, text: "Turn \(turn)")
        let arrived = try await clock.arrivals.wait(within: .seconds(60)) { $0.count > before }
        let messageId = arrived[before]
        try await clock.turnEnds.wait(within: .seconds(60)) { $0.count > endsBefore }
        guard turn > 0, let received = clock.arrival(of: messageId) else { continue }
        measured.firstDelta.append(milliseconds(received - sent))
        measured.whole.append(milliseconds(ContinuousClock.now - sent))
        if let at = written(messageId) { measured.overhead.append(milliseconds(received - at)) }
    }
    return measured
}
