import Foundation
import Synchronization
import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#endif

/// A child process (`/bin/sleep`), reaped by a thread of its own; `wait()` returns once it
/// has been reaped.
final class SleepProcess: Sendable {
    let pid: pid_t
    private let state = Mutex<(reaped: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(seconds: Double) throws {
        var spawned: pid_t = 0
        let arguments = ["/bin/sleep", String(seconds)]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let rc = posix_spawn(&spawned, "/bin/sleep", nil, nil, &argv, environ)
        guard rc == 0 else { throw AdapterError(.agentFailure, "Could not start /bin/sleep: \(String(cString: strerror(rc))).") }
        let pid = spawned
        self.pid = pid
        let reaper = Thread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let waiters = state.withLock { s in
                s.reaped = true
                defer { s.waiters = [] }
                return s.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        reaper.start()
    }

    /// Kills the process (it is reaped by its thread).
    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// Returns once the process has exited and been reaped.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.reaped { return true }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// An in-process adapter whose "agent" is a child process per turn: it echoes the message
/// after a `/bin/sleep` finishes. `/sleep N` makes the turn sleep N seconds (a long turn);
/// `/fail` makes it end in an error. It keeps every guarantee — unless a ``Flaw`` is given,
/// which breaks exactly one, so the suite's tests can show each check failing.
final class ProcessEchoAdapter: AgentAdapter {
    /// One broken guarantee.
    enum Flaw: Sendable {
        /// Accepts settings of any shape.
        case acceptsAnySettings
        /// A second message while a turn runs is accepted (and replaces the first turn).
        case acceptsSecondMessage
        /// Interrupt returns but the turn keeps running.
        case ignoresInterrupt
        /// setModel is accepted but turns keep the first model.
        case ignoresModel
        /// Never reports an agent session id.
        case noAgentSessionId
        /// A turn ends with status idle but no `done` message.
        case noDoneMessage
        /// Dispose leaves the running turn's process behind.
        case leaksProcess
        /// Dispose never finishes the event stream.
        case neverFinishes
        /// A failing turn ends with status idle instead of error.
        case swallowsErrors
    }

    private struct State {
        var model: String?
        var turn: Task<Void, Never>?
        var process: SleepProcess?
        var interrupted = false
        var disposed = false
    }

    private let channel = AdapterEventChannel()
    private let state = Mutex(State())
    private let prefix: String
    private let flaw: Flaw?
    private static let serial = Atomic<Int>(0)

    var events: AsyncStream<AdapterEvent> { channel.events }
    var agentSessionId: String? { channel.agentSessionId }
    var status: SessionStatus { channel.status }

    init(settings: JSONValue, flaw: Flaw? = nil) throws {
        self.flaw = flaw
        if flaw == .acceptsAnySettings {
            prefix = ""
            return
        }
        guard let object = settings.objectValue else {
            throw AdapterError(.invalidSettings, "settings must be an object, not \(settings.kindDescription)")
        }
        if let key = object.keys.sorted().first(where: { $0 != "prefix" }) {
            throw AdapterError(.invalidSettings, "settings.\(key): unknown setting (known: prefix)")
        }
        if let value = object["prefix"] {
            guard let text = value.stringValue else {
                throw AdapterError(.invalidSettings, "settings.prefix: must be a string, not \(value.kindDescription)")
            }
            prefix = text
        } else {
            prefix = ""
        }
    }

    func start(_ options: StartOptions) async throws {
        state.withLock { $0.model = options.model }
        guard flaw != .noAgentSessionId else { return }
        let number = Self.serial.add(1, ordering: .relaxed).newValue
        channel.setAgentSessionId(options.agentSessionId ?? "process-echo-\(getpid())-\(number)")
    }

    func sendMessage(_ text: String) async throws {
        if state.withLock({ $0.disposed }) { throw AdapterError(.invalidState, "The adapter has been disposed.") }
        if flaw == .acceptsSecondMessage {
            channel.setStatus(.running)
        } else if !channel.transition(from: [.idle, .error, .interrupted], to: .running) {
            throw AdapterError(.invalidState, "A turn is already running.")
        }
        var seconds = 0.01
        if text.hasPrefix("/sleep "), let value = Double(text.dropFirst(7)) { seconds = value }
        let process = try SleepProcess(seconds: seconds)
        let reply = prefix + text
        let fails = text == "/fail"
        state.withLock { s in
            s.interrupted = false
            s.process = process
            let model = s.model
            s.turn = Task { [channel, flaw] in
                await process.wait()
                if self.state.withLock({ $0.interrupted }) {
                    channel.setStatus(.interrupted)
                    return
                }
                if fails && flaw != .swallowsErrors {
                    channel.emit(ChatMessage(type: .error, content: "The agent failed, as asked."))
                    channel.setStatus(.error)
                    return
                }
                channel.emit(ChatMessage(type: .assistant, content: reply))
                if flaw != .noDoneMessage {
                    var extra: [String: JSONValue] = [:]
                    if let model { extra["model"] = .string(model) }
                    channel.emit(ChatMessage(type: .done, content: "Response complete", extra: extra))
                }
                channel.setStatus(.idle)
            }
        }
    }

    func setModel(_ model: String) async throws {
        guard flaw != .ignoresModel else { return }
        state.withLock { $0.model = model }
    }

    func interrupt() async throws {
        guard flaw != .ignoresInterrupt else { return }
        let (process, turn) = state.withLock { s -> (SleepProcess?, Task<Void, Never>?) in
            guard channel.status == .running else { return (nil, nil) }
            s.interrupted = true
            return (s.process, s.turn)
        }
        process?.kill()
        await turn?.value
    }

    func dispose() async {
        let (process, turn) = state.withLock { s -> (SleepProcess?, Task<Void, Never>?) in
            s.disposed = true
            s.interrupted = true
            return (s.process, s.turn)
        }
        if flaw != .leaksProcess {
            process?.kill()
            await turn?.value
        } else {
            turn?.cancel()
        }
        if flaw != .neverFinishes { channel.finish() }
    }
}
