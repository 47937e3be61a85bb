import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One agent process of a session: the connection, what the agent said about itself, the
/// ACP session it serves, the update mapper and the client side (files, terminals, asks).
final class ACPRunning: Sendable {
    private struct State {
        var connection: ACPConnection?
        var clientSide: ACPClientSide?
        var agent = ACPProtocol.Agent()
        var sessionId: String?
        /// How the session was set up: `new`, or the method that restored it.
        var origin = "new"
        var infoShown = false
    }

    /// This process's number among the adapter's (1, 2, …): names its decision requests.
    let number: Int
    let mapper = Mutex(ACPUpdateMapper())
    /// Set when the adapter stops the process on purpose: its exit is then no failure.
    let retiring = Atomic<Bool>(false)
    private let state = Mutex(State())

    init(number: Int) { self.number = number }

    var connection: ACPConnection? {
        get { state.withLock { $0.connection } }
        set { state.withLock { $0.connection = newValue } }
    }

    var clientSide: ACPClientSide? {
        get { state.withLock { $0.clientSide } }
        set { state.withLock { $0.clientSide = newValue } }
    }

    /// What the agent's `initialize` answer said.
    var agent: ACPProtocol.Agent {
        get { state.withLock { $0.agent } }
        set { state.withLock { $0.agent = newValue } }
    }

    /// The ACP session id, once `session/new`, `session/load` or `session/resume` answered.
    var sessionId: String? {
        get { state.withLock { $0.sessionId } }
        set { state.withLock { $0.sessionId = newValue } }
    }

    /// `new`, `session/load` or `session/resume`.
    var origin: String {
        get { state.withLock { $0.origin } }
        set { state.withLock { $0.origin = newValue } }
    }

    /// The session's modes, config options and models.
    var setup: ACPProtocol.SessionSetup { mapper.withLock { $0.setup } }

    /// Whether the session's info was shown (once per process, at its first turn).
    func takeInfoTurn() -> Bool {
        state.withLock { s in
            defer { s.infoShown = true }
            return !s.infoShown
        }
    }

    /// Whether the process is alive with its session set up.
    var isUsable: Bool {
        state.withLock { s in s.sessionId != nil && s.connection != nil && s.connection?.exit == nil }
            && !retiring.load(ordering: .sequentiallyConsistent)
    }

    /// Stops the process on purpose (close stdin, grace, SIGTERM, grace, SIGKILL to the
    /// group), then answers nothing more and kills every terminal it had.
    func retire(_ sequence: AgentProcess.StopSequence) async {
        retiring.store(true, ordering: .sequentiallyConsistent)
        await connection?.process?.stop(sequence)
        await clientSide?.close()
    }

    /// Kills the process group at once and waits until it was reaped; kills its terminals.
    func kill() async {
        retiring.store(true, ordering: .sequentiallyConsistent)
        if let process = connection?.process {
            process.signalGroup(SIGKILL)
            await process.waitForExit()
        }
        await clientSide?.close()
    }
}
