import Dispatch
import Logging
import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a running helper tells the adapters it serves.
protocol HelperLink: AnyObject, Sendable {
    /// One event the plugin sent for this adapter (raw JSON).
    func helperEvent(_ bytes: [UInt8])
    /// The C call of `request` returned `code`.
    func helperReturned(request: UInt64, code: Int32)
    /// The helper saw the plugin break a rule for this adapter.
    func helperViolation(_ text: String)
    /// The helper is gone; `message` names the plugin and the cause.
    func helperDied(_ message: String)
}

/// One running `switchboard-plugin-host` process: the socket to it, the adapters it serves
/// by id, and the thread that reads its frames. When the process ends — a crash, `exit()`
/// in the plugin, a kill after stuck calls — it is reaped, and every adapter it served is
/// told, with the cause and the call it was handling.
final class PluginHelperProcess: Sendable {
    /// The helper's process id (also its process group).
    let pid: pid_t
    /// The agent type it serves.
    let agentType: String
    /// The plugin's file name, for messages.
    let pluginName: String

    private struct State {
        var links: [UInt64: any HelperLink] = [:]
        var nextAdapter: UInt64 = 1
        var creates: [UInt64: CheckedContinuation<String?, any Error>] = [:]
        var destroys: [UInt64: DoneSignal] = [:]
        /// Calls sent whose C call has not returned, by (adapter, request): their names.
        var calls: [HelperCallKey: String] = [:]
        var descriptor: HelperDescriptor?
        var readyWaiters: [CheckedContinuation<HelperDescriptor, any Error>] = []
        /// Set once the process is gone: the message adapters get.
        var death: String?
        /// Why the host killed it, when it did.
        var killReason: String?
        var stuckCalls = 0
    }

    private let socket: Int32
    private let writer: DispatchQueue
    private let state = Mutex(State())
    /// Signalled once the process has been reaped.
    let exited = DoneSignal()
    /// Called once, after the process was reaped and every adapter told.
    private let onExit: @Sendable (PluginHelperProcess, String) -> Void

    private init(pid: pid_t, socket: Int32, agentType: String, pluginName: String, onExit: @escaping @Sendable (PluginHelperProcess, String) -> Void) {
        self.pid = pid
        self.socket = socket
        self.agentType = agentType
        self.pluginName = pluginName
        self.onExit = onExit
        writer = DispatchQueue(label: "switchboard.plugin-helper.\(agentType).writer")
    }

    /// Starts `executable --serve plugin agentType` in a process group of its own, guarded
    /// so it dies with this process, and starts reading its frames.
    static func launch(
        executable: String, pluginPath: String, agentType: String, pluginName: String,
        onExit: @escaping @Sendable (PluginHelperProcess, String) -> Void
    ) throws(AdapterError) -> PluginHelperProcess {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw AdapterError(.agentFailure, "Could not start the helper for plugin '\(pluginName)': socketpair failed (errno \(errno)).")
        }
        let (mine, theirs) = (fds[0], fds[1])
        let pid: pid_t
        do {
            pid = try spawn(executable, ["switchboard-plugin-host", "--serve", pluginPath, agentType], socket: theirs)
        } catch {
            close(mine)
            close(theirs)
            throw AdapterError(.agentFailure, "Could not start the helper '\(executable)' for plugin '\(pluginName)': \(error)")
        }
        close(theirs)
        ProcessGuardian.guardGroup(pid)
        let helper = PluginHelperProcess(pid: pid, socket: mine, agentType: agentType, pluginName: pluginName, onExit: onExit)
        let reader = DispatchQueue(label: "switchboard.plugin-helper.\(agentType).reader")
        reader.async { helper.readUntilExit() }
        return helper
    }

    /// Waits for the helper's first frame: the plugin loaded in it.
    func ready(within limit: Duration) async throws -> HelperDescriptor {
        let timer = Task { [self] in
            do { try await Task.sleep(for: limit) } catch { return }
            kill(because: "it did not load the plugin within \(PluginHostContext.seconds(limit)) s")
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { s -> Result<HelperDescriptor, AdapterError>? in
                if let descriptor = s.descriptor { return .success(descriptor) }
                if let death = s.death { return .failure(AdapterError(.agentFailure, death)) }
                s.readyWaiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Whether the process is gone (or going).
    var isDead: Bool { state.withLock { $0.death != nil } }

    /// How many adapters it serves.
    var adapterCount: Int { state.withLock { $0.links.count } }

    /// Creates an adapter in the helper for `link`.
    /// - Returns: the adapter's id in this helper.
    /// - Throws: the plugin's reason when `create` fails, or the helper's death.
    func create(_ link: any HelperLink, settings: [UInt8], within limit: Duration) async throws -> UInt64 {
        let id: UInt64? = state.withLock { s in
            guard s.death == nil else { return nil }
            defer { s.nextAdapter &+= 1 }
            s.links[s.nextAdapter] = link
            s.calls[HelperCallKey(adapter: s.nextAdapter, request: 0)] = "create"
            return s.nextAdapter
        }
        guard let id else { throw AdapterError(.agentFailure, deathMessage) }
        let timer = Task { [self] in
            do { try await Task.sleep(for: limit) } catch { return }
            let waiter = state.withLock { $0.creates.removeValue(forKey: id) }
            guard let waiter else { return }
            waiter.resume(throwing: AdapterError(.protocolViolation, "Plugin '\(pluginName)' did not return from create within \(PluginHostContext.seconds(limit)) s."))
            noteStuckCall("create", limit: limit)
        }
        defer { timer.cancel() }
        let failure: String? = try await withCheckedThrowingContinuation { continuation in
            let dead = state.withLock { s -> Bool in
                guard s.death == nil else { return true }
                s.creates[id] = continuation
                return false
            }
            if dead {
                continuation.resume(throwing: AdapterError(.agentFailure, deathMessage))
                return
            }
            send(HelperFrame(.create, adapter: id, payload: settings))
        }
        if let failure {
            _ = state.withLock { $0.links.removeValue(forKey: id) }
            throw AdapterError(.invalidSettings, failure)
        }
        return id
    }

    /// Sends a call; its return arrives through the adapter's link.
    /// - Returns: false when the helper is gone.
    @discardableResult
    func call(_ op: HelperOp, adapter: UInt64, request: UInt64, payload: [UInt8]) -> Bool {
        let alive = state.withLock { s -> Bool in
            guard s.death == nil else { return false }
            s.calls[HelperCallKey(adapter: adapter, request: request)] = op.callName
            return true
        }
        if alive { send(HelperFrame(op, adapter: adapter, request: request, payload: payload)) }
        return alive
    }

    /// Destroys the adapter in the helper and forgets its link once `destroy` returned
    /// (or the helper is gone). Waits at most `limit`.
    func destroy(adapter: UInt64, within limit: Duration?) async {
        let done = DoneSignal()
        let alive = state.withLock { s -> Bool in
            guard s.death == nil, s.links[adapter] != nil else { return false }
            s.destroys[adapter] = done
            s.calls[HelperCallKey(adapter: adapter, request: 0)] = "destroy"
            return true
        }
        guard alive else {
            _ = state.withLock { $0.links.removeValue(forKey: adapter) }
            return
        }
        send(HelperFrame(.destroy, adapter: adapter))
        if let limit { _ = await done.wait(within: limit) }
    }

    /// Destroys the adapter in the helper without waiting (an adapter dropped undisposed).
    func release(adapter: UInt64) {
        let alive = state.withLock { s -> Bool in
            guard s.death == nil, s.links[adapter] != nil else { return false }
            s.calls[HelperCallKey(adapter: adapter, request: 0)] = "destroy"
            return true
        }
        if alive { send(HelperFrame(.destroy, adapter: adapter)) }
    }

    /// The message adapters get once the helper is gone.
    var deathMessage: String {
        state.withLock { $0.death } ?? "Plugin '\(pluginName)' has no helper process."
    }

    /// A call did not return in time; after the second, the helper is killed.
    func noteStuckCall(_ name: String, limit: Duration) {
        let stuck = state.withLock { s in
            s.stuckCalls += 1
            return s.stuckCalls
        }
        if stuck >= 2 {
            kill(because: "\(stuck) calls (the last \(name)) did not return within \(PluginHostContext.seconds(limit)) s")
        }
    }

    /// Kills the helper's process group; the reader reaps it and tells the adapters.
    func kill(because reason: String) {
        let first = state.withLock { s -> Bool in
            guard s.killReason == nil, s.death == nil else { return false }
            s.killReason = reason
            return true
        }
        guard first else { return }
        PluginHostContext.logger.warning("killing plugin helper", metadata: ["plugin": "\(pluginName)", "pid": "\(pid)", "reason": "\(reason)"])
        killGroup(pid)
    }

    /// Closes the daemon's end: the helper exits at end of file. Waits for it within `limit`,
    /// then kills it.
    func shutDown(within limit: Duration) async {
        _ = shutdown(socket, Int32(SHUT_WR))
        if await !exited.wait(within: limit) {
            kill(because: "it did not exit within \(PluginHostContext.seconds(limit)) s of shutdown")
            _ = await exited.wait(within: .seconds(5))
        }
    }

    private func send(_ frame: HelperFrame) {
        let bytes = frame.encoded()
        writer.async { [socket] in _ = HelperIO.writeAll(socket, bytes) }
    }

    // MARK: - Reading

    private func readUntilExit() {
        let problem = HelperIO.readFrames(socket) { frame in dispatch(frame) }
        if let problem {
            kill(because: "it sent \(problem)")
        }
        let status = reap()
        close(socket)
        ProcessGuardian.release(pid)
        let (message, links, creates, destroys, readyWaiters) = state.withLock { s in
            let cause: String
            if let reason = s.killReason {
                cause = "stopped answering and was killed (\(reason))"
            } else {
                cause = Self.describe(status)
            }
            let handling = Set(s.calls.values).sorted()
            let message = "plugin '\(agentType)' \(cause)" + (handling.isEmpty ? "" : " while handling \(handling.joined(separator: ", "))")
            s.death = message
            defer {
                s.links = [:]
                s.creates = [:]
                s.destroys = [:]
                s.readyWaiters = []
                s.calls = [:]
            }
            return (message, Array(s.links.values), Array(s.creates.values), Array(s.destroys.values), s.readyWaiters)
        }
        PluginHostContext.logger.warning("plugin helper ended", metadata: ["plugin": "\(pluginName)", "pid": "\(pid)", "cause": "\(message)"])
        for waiter in readyWaiters { waiter.resume(throwing: AdapterError(.agentFailure, message)) }
        for waiter in creates { waiter.resume(throwing: AdapterError(.agentFailure, message)) }
        for done in destroys { done.signal() }
        for link in links { link.helperDied(message) }
        onExit(self, message)
        exited.signal()
    }

    private func dispatch(_ frame: HelperFrame) {
        switch frame.op {
        case .ready:
            let descriptor = (try? JSONValue(parsing: String(decoding: frame.payload, as: UTF8.self))).flatMap(HelperDescriptor.init)
            guard let descriptor else {
                kill(because: "its first frame did not describe the plugin")
                return
            }
            let waiters = state.withLock { s in
                s.descriptor = descriptor
                defer { s.readyWaiters = [] }
                return s.readyWaiters
            }
            for waiter in waiters { waiter.resume(returning: descriptor) }
        case .created:
            let waiter = state.withLock { s in
                s.calls[HelperCallKey(adapter: frame.adapter, request: 0)] = nil
                return s.creates.removeValue(forKey: frame.adapter)
            }
            waiter?.resume(returning: frame.request == 0 ? nil : "Plugin '\(pluginName)' could not create an adapter for '\(agentType)': \(String(decoding: frame.payload, as: UTF8.self))")
        case .event:
            link(frame.adapter)?.helperEvent(frame.payload)
        case .returned:
            _ = state.withLock { $0.calls.removeValue(forKey: HelperCallKey(adapter: frame.adapter, request: frame.request)) }
            link(frame.adapter)?.helperReturned(request: frame.request, code: frame.code ?? -1)
        case .violation:
            link(frame.adapter)?.helperViolation(String(decoding: frame.payload, as: UTF8.self))
        case .destroyed:
            let done = state.withLock { s in
                s.calls[HelperCallKey(adapter: frame.adapter, request: 0)] = nil
                s.links[frame.adapter] = nil
                return s.destroys.removeValue(forKey: frame.adapter)
            }
            done?.signal()
        default:
            kill(because: "it sent a frame only the daemon sends (\(frame.op))")
        }
    }

    private func link(_ adapter: UInt64) -> (any HelperLink)? {
        state.withLock { $0.links[adapter] }
    }

    /// Waits for the process to exit (it closed its socket or died), killing it if it lingers.
    private func reap() -> Int32 {
        var status: Int32 = 0
        for _ in 0..<200 {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { return status }
            if rc < 0 && errno != EINTR { return -1 }
            usleep(10_000)
        }
        killGroup(pid)
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return status
    }

    /// `crashed (SIGSEGV)`, `exited with status 3`, `exited`.
    static func describe(_ status: Int32) -> String {
        if status < 0 { return "ended (its exit status could not be read)" }
        let signal = status & 0x7f
        if signal != 0 && signal != 0x7f { return "crashed (\(signalName(signal)))" }
        let code = (status >> 8) & 0xff
        return code == 0 ? "exited" : "exited with status \(code)"
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGILL: "SIGILL", SIGKILL: "SIGKILL",
            SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGSYS: "SIGSYS", SIGPIPE: "SIGPIPE", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT",
            SIGHUP: "SIGHUP", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
        ]
        return names[signal] ?? "signal \(signal)"
    }

    /// Starts the helper with `socket` as its descriptor 3, in a process group of its own.
    private static func spawn(_ executable: String, _ arguments: [String], socket: Int32) throws(AdapterError) -> pid_t {
        do {
            return try CleanSpawn.spawn(executable, argv: arguments, descriptors: [0: .null, 3: .descriptor(socket)], ownProcessGroup: true)
        } catch {
            throw AdapterError(.agentFailure, error.description)
        }
    }
}

/// A call in flight in a helper: the adapter and the request (0 for create and destroy).
struct HelperCallKey: Hashable, Sendable {
    var adapter: UInt64
    var request: UInt64
}

/// SIGKILL to the process group `group`.
private func killGroup(_ group: pid_t) {
    _ = kill(-group, SIGKILL)
}
