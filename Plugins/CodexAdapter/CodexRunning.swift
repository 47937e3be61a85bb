import SwitchboardAdapterAPI
import SwitchboardPluginSDK
import SwitchboardProcess
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One `codex app-server` process of a session, the thread it serves, and the turn in
/// progress on it.
final class CodexRunning: Sendable {
    /// The turn in progress: how it ends, and when it started on the server.
    private struct Turn {
        var end: OneShot<TurnOutcome>
        /// Set to the turn id by `turn/started` (to "" when the turn ended before it).
        var started: OneShot<String>
        var turnId: String?
        var skippedAtStart: Int
    }

    private struct State {
        var connection: CodexConnection?
        var threadId: String?
        var turn: Turn?
        var announced = false
    }

    let mapper = Mutex(CodexEventMapper())
    /// Set when the adapter stops the process on purpose: its exit is then no failure.
    let retiring = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let requestsBox = Mutex<CodexServerRequests?>(nil)
    private let processNumber = Atomic<Int>(0)

    init() {}

    /// This process's number among the adapter's (1, 2, …): names its decision requests.
    var process: Int {
        get { processNumber.load(ordering: .relaxed) }
        set { processNumber.store(newValue, ordering: .relaxed) }
    }

    var connection: CodexConnection? {
        get { state.withLock { $0.connection } }
        set { state.withLock { $0.connection = newValue } }
    }

    /// The thread id, once `thread/start` or `thread/resume` answered.
    var threadId: String? {
        get { state.withLock { $0.threadId } }
        set { state.withLock { $0.threadId = newValue } }
    }

    /// Who answers the server's requests.
    var requests: CodexServerRequests? {
        get { requestsBox.withLock { $0 } }
        set { requestsBox.withLock { $0 = newValue } }
    }

    /// Whether the process is alive and its thread loaded.
    var isUsable: Bool {
        state.withLock { s in s.threadId != nil && s.connection != nil && s.connection?.exit == nil }
    }

    /// Makes `end` the turn in progress; returns the exit if the process is already gone.
    func attach(_ end: OneShot<TurnOutcome>, started: OneShot<String>) -> ProcessExit? {
        state.withLock { s in
            if let exit = s.connection?.exit { return exit }
            s.turn = Turn(end: end, started: started, turnId: nil, skippedAtStart: s.connection?.skippedLines ?? 0)
            return nil
        }
    }

    /// `turn/started` for `turnId`: remembers it and wakes an interrupt waiting for it.
    /// - Returns: whether this is the first turn that started in this process.
    func turnStarted(_ turnId: String) -> Bool {
        let (started, first) = state.withLock { s -> (OneShot<String>?, Bool) in
            s.turn?.turnId = turnId
            defer { s.announced = true }
            return (s.turn?.started, !s.announced)
        }
        started?.set(turnId)
        return first
    }

    /// Ends the turn in progress with `outcome`, once. A `turn/completed` for another turn
    /// (`turnId` given and different) is ignored.
    func endTurn(_ outcome: TurnOutcome, turnId: String? = nil) {
        let turn = state.withLock { s -> Turn? in
            guard let turn = s.turn else { return nil }
            if let turnId, let current = turn.turnId, current != turnId { return nil }
            s.turn = nil
            return turn
        }
        guard let turn else { return }
        turn.started.set("")
        turn.end.set(outcome)
    }

    /// Lines skipped since the turn in progress began.
    var skippedDuringTurn: Int {
        state.withLock { s in
            guard let turn = s.turn, let connection = s.connection else { return 0 }
            return max(0, connection.skippedLines - turn.skippedAtStart)
        }
    }

    /// Whether a turn is attached.
    var hasTurn: Bool { state.withLock { $0.turn != nil } }

    /// Stops the process on purpose (close stdin, grace, SIGTERM, grace, SIGKILL to the group),
    /// cancels pending approval decisions, and ends the turn in progress as stopped.
    func retire(_ sequence: AgentProcess.StopSequence) async {
        retiring.store(true, ordering: .sequentiallyConsistent)
        await connection?.process?.stop(sequence)
        await requests?.close()
        endTurn(.stopped)
    }

    /// Kills the process group at once and waits until the process has been reaped.
    func kill() async {
        retiring.store(true, ordering: .sequentiallyConsistent)
        guard let process = connection?.process else { return }
        process.signalGroup(SIGKILL)
        await process.waitForExit()
        await requests?.close()
    }
}
