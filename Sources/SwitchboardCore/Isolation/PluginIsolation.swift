import SwitchboardAdapterAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where an agent type's plugin runs (`agents.<type>.isolation`).
public enum PluginIsolationMode: String, Sendable, Hashable, CaseIterable {
    /// Loaded into the daemon with `dlopen`: the cheapest, but a crash or `exit()` in the
    /// plugin ends the daemon.
    case inline
    /// Loaded into a `switchboard-plugin-host` helper process of its own, shared by the
    /// type's sessions: a crash costs only those sessions.
    case process
}

/// The deadlines the host keeps for one agent type's plugin calls and turns.
public struct PluginTimeouts: Sendable, Hashable {
    /// How long a call (`create`, `start`, `send_message`, …) may take to complete.
    public var call: Duration
    /// How long `dispose` may take before the adapter is destroyed anyway.
    public var dispose: Duration
    /// How long a turn may run before the host ends it; `nil`: no limit.
    public var turn: Duration?

    /// The defaults: 30 s per call and for dispose, no turn limit.
    public init(call: Duration = .seconds(30), dispose: Duration = .seconds(30), turn: Duration? = nil) {
        self.call = call
        self.dispose = dispose
        self.turn = turn
    }
}

/// Runs one agent type's plugin in `switchboard-plugin-host` helper processes: one helper at
/// a time, shared by the type's sessions, started on first use and again after it died.
///
/// A helper that dies is counted; the first restart is immediate, and each further one
/// without a session start succeeding in between waits twice as long as the one before
/// (1 s, 2 s, 4 s, … at most 60 s), so a plugin that crashes at once never restarts in a
/// tight loop. ``status`` says what `switchboard agents` shows.
public final class PluginIsolation: Sendable {
    /// What ``status`` reports.
    public struct Status: Sendable, Hashable {
        /// The live helper's process id.
        public var helperPID: Int32?
        /// How many helpers were started after the first.
        public var restarts: Int
        /// How many helpers ended without being asked to.
        public var crashes: Int
        /// How the last one ended.
        public var lastCrash: String?
        /// How long until the next helper may start, when backing off.
        public var backoffSeconds: Int?
    }

    private struct State {
        var current: PluginHelperProcess?
        var started = 0
        var crashes = 0
        var consecutiveCrashes = 0
        var lastCrash: String?
        var notBefore: ContinuousClock.Instant?
        var shuttingDown = false
    }

    /// The agent type.
    public let agentType: String
    /// The plugin file.
    public let pluginPath: String
    /// The helper executable.
    public let executable: String
    /// The deadlines of the type's calls.
    public let timeouts: PluginTimeouts
    private let state = Mutex(State())

    /// The longest wait between restarts.
    public static let maximumBackoff: Duration = .seconds(60)

    /// Runs `pluginPath` for `agentType` in helpers started from `executable`.
    public init(agentType: String, pluginPath: String, executable: String = PluginIsolation.defaultExecutable, timeouts: PluginTimeouts = PluginTimeouts()) {
        self.agentType = agentType
        self.pluginPath = pluginPath
        self.executable = executable
        self.timeouts = timeouts
    }

    /// `$SWITCHBOARD_PLUGIN_HOST`, else `switchboard-plugin-host` next to the running executable.
    public static var defaultExecutable: String {
        if let value = getenv("SWITCHBOARD_PLUGIN_HOST").map({ String(cString: $0) }), !value.isEmpty { return value }
        return FilePaths.join(FilePaths.executableDirectory(), "switchboard-plugin-host")
    }

    /// The plugin's file name, for messages.
    var pluginName: String { pluginPath.split(separator: "/").last.map(String.init) ?? pluginPath }

    /// What `switchboard agents` shows.
    public var status: Status {
        state.withLock { s in
            let wait = s.notBefore.map { ContinuousClock.now < $0 ? Int(($0 - ContinuousClock.now).components.seconds) + 1 : 0 }
            return Status(
                helperPID: s.current.flatMap { $0.isDead ? nil : $0.pid }, restarts: max(s.started - 1, 0), crashes: s.crashes,
                lastCrash: s.lastCrash, backoffSeconds: wait.flatMap { $0 > 0 ? $0 : nil }
            )
        }
    }

    /// The running helper, or a new one; waits until its plugin has loaded.
    /// - Throws: ``AdapterError`` `agentFailure` while backing off after crashes, or when the
    ///   helper could not start or load the plugin.
    func helper() async throws -> PluginHelperProcess {
        let helper: PluginHelperProcess = try state.withLock { s throws(AdapterError) in
            if let current = s.current, !current.isDead { return current }
            guard !s.shuttingDown else {
                throw AdapterError(.invalidState, "Plugin '\(pluginName)' is shutting down.")
            }
            if let notBefore = s.notBefore, ContinuousClock.now < notBefore {
                let seconds = Int((notBefore - ContinuousClock.now).components.seconds) + 1
                throw AdapterError(.agentFailure, "plugin '\(agentType)' crashed \(s.consecutiveCrashes) times in a row (last: \(s.lastCrash ?? "unknown")); its helper restarts in \(seconds) s.")
            }
            let helper = try PluginHelperProcess.launch(
                executable: executable, pluginPath: pluginPath, agentType: agentType, pluginName: pluginName,
                onExit: { [weak self] helper, message in self?.ended(helper, message) }
            )
            s.current = helper
            s.started += 1
            return helper
        }
        _ = try await helper.ready(within: timeouts.call)
        return helper
    }

    /// A session started in the current helper: the crash streak is over.
    func startSucceeded() {
        state.withLock { s in
            s.consecutiveCrashes = 0
            s.notBefore = nil
        }
    }

    private func ended(_ helper: PluginHelperProcess, _ message: String) {
        state.withLock { s in
            if s.current === helper { s.current = nil }
            guard !s.shuttingDown else { return }
            s.crashes += 1
            s.consecutiveCrashes += 1
            s.lastCrash = message
            if s.consecutiveCrashes >= 2 {
                let exponent = min(s.consecutiveCrashes - 2, 6)
                let wait = min(Duration.seconds(1 << exponent), Self.maximumBackoff)
                s.notBefore = ContinuousClock.now + wait
            }
        }
    }

    /// Stops the helper (after its sessions were disposed): it exits when its socket
    /// closes, or is killed after `limit`. No helper starts afterwards.
    public func shutDown(within limit: Duration = .seconds(5)) async {
        let current = state.withLock { s in
            s.shuttingDown = true
            return s.current
        }
        await current?.shutDown(within: limit)
    }
}
