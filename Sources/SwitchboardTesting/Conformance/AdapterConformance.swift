import SwitchboardAdapterAPI
import SwitchboardCore
import Synchronization

/// The conformance suite every adapter must pass: one call runs each check of the
/// `AgentAdapter` "Implementation requirements" against an adapter — made in-process by a
/// factory, or loaded from a plugin file exactly as the host loads it — and reports each
/// check's result.
///
/// ```swift
/// var inputs = ConformanceInputs()
/// inputs.settings = .object(["prefix": .string("> ")])
/// inputs.longTurn = ConformanceTurn(settings: .object(["thinkMs": .int(60000)]), prompt: "think hard")
/// inputs.modelObserver = ConformanceInputs.modelFromDoneMessage
/// let report = await AdapterConformance(pluginPath: ".build/debug/libEchoAgent.so", inputs: inputs).run()
/// print(report)            // one line per check: PASS, FAIL or N/A, with what was verified
/// #expect(report.passed)
/// ```
///
/// Or, in a Swift Testing test, ``runTest(sourceLocation:)``, which records an issue for
/// every failed check.
///
/// ## What is checked
/// See ``ConformanceCheck``. Each check makes fresh adapters with the inputs' settings,
/// starts them with ``ConformanceInputs/startOptions`` and disposes them afterwards. Every
/// call into the adapter and every wait for an event has a deadline
/// (``ConformanceInputs/callTimeout``, ``ConformanceInputs/turnTimeout``), so a hanging
/// adapter fails a check instead of hanging the suite.
///
/// ## What cannot be checked generically
/// - **Crashes.** An adapter that crashes takes the test process down with it (a plugin
///   runs in-process); the suite cannot report that, but the test run fails loudly.
/// - **Which model a turn used** is visible only if the adapter reports it somewhere; give
///   ``ConformanceInputs/modelObserver``. Without it the model check verifies that
///   `setModel` is accepted and the next turn completes, and its message says so.
/// - **Errors during a turn** and **a failed start** need inputs that provoke them
///   (``ConformanceInputs/failingTurn``, ``ConformanceInputs/failingStartSettings``); without
///   them only the generic probes run, and the message says what was not exercised.
/// - **Processes** are counted among the descendants of this process, before and after
///   `dispose`. Commands run by ``ChildProcess`` (compilers, builds) are not counted, and
///   runs of the suite in one process take turns (a lock), so they do not count each
///   other's processes. Other code of yours that starts processes while the suite runs can
///   still be counted.
public struct AdapterConformance: Sendable {
    /// What is tested.
    public enum Subject: Sendable {
        /// Adapters made in-process by a factory; `name` appears in the report.
        case factory(name: String, AgentAdapterFactory)
        /// A plugin file, loaded with ``PluginLoader`` and driven through ``PluginAdapter``.
        case plugin(path: String)
    }

    /// What is tested.
    public var subject: Subject
    /// The per-adapter inputs.
    public var inputs: ConformanceInputs
    /// Where a plugin file runs: loaded here (`inline`), or in a `switchboard-plugin-host`
    /// helper (`process`), as a daemon runs it with that `isolation`.
    public var isolation: PluginIsolationMode = .inline

    /// Tests adapters made in-process by `factory`.
    public init(name: String, inputs: ConformanceInputs = ConformanceInputs(), factory: @escaping AgentAdapterFactory) {
        self.subject = .factory(name: name, factory)
        self.inputs = inputs
    }

    /// Tests the plugin file at `pluginPath`, as the host would load it.
    public init(pluginPath: String, inputs: ConformanceInputs = ConformanceInputs()) {
        self.subject = .plugin(path: pluginPath)
        self.inputs = inputs
    }

    /// Tests the plugin file at `pluginPath`, run with `isolation` as a daemon would run it.
    public init(pluginPath: String, isolation: PluginIsolationMode, inputs: ConformanceInputs = ConformanceInputs()) {
        self.init(pluginPath: pluginPath, inputs: inputs)
        self.isolation = isolation
    }

    /// The name the report uses: the plugin path or the factory's name.
    public var subjectName: String {
        switch subject {
        case .factory(let name, _): name
        case .plugin(let path): path
        }
    }

    /// Runs `checks` (all by default), one after another, and reports each.
    ///
    /// Never throws and never traps on the adapter's behalf: every broken guarantee is a
    /// failed check with a message. Runs in one process take turns.
    public func run(_ checks: [ConformanceCheck] = ConformanceCheck.allCases) async -> ConformanceReport {
        await ConformanceLock.shared.withLock {
            await runUnlocked(checks)
        }
    }

    private func runUnlocked(_ checks: [ConformanceCheck]) async -> ConformanceReport {
        var results: [ConformanceResult] = []
        let factory: AgentAdapterFactory?
        var loadFailure: String?
        var loadMessage = "An in-process factory has no plugin file to load."
        var isPlugin = false
        // In process mode, the run's helper: stopped once every check is done, so the run
        // leaves no process behind.
        var helper: PluginIsolation?
        switch subject {
        case .factory(_, let make):
            factory = make
        case .plugin(let path):
            isPlugin = true
            do {
                let plugin: LoadedPlugin
                switch isolation {
                case .inline:
                    plugin = try PluginLoader.load(path)
                    factory = { settings in try PluginAdapter(plugin: plugin, settings: settings) }
                case .process:
                    plugin = try PluginProbe.probe(path)
                    let helpers = PluginIsolation(agentType: plugin.agentType, pluginPath: path)
                    helper = helpers
                    factory = { settings in IsolatedPluginAdapter(isolation: helpers, settings: settings) }
                }
                loadMessage = "Loaded '\(plugin.fileName)'\(isolation == .process ? " in a helper process" : ""): agent type '\(plugin.agentType)', ABI \(plugin.abiVersion), a \(plugin.structSize)-byte descriptor, built with \(plugin.toolchain)."
            } catch {
                factory = nil
                loadFailure = error.message
            }
        }
        for check in checks {
            let clock = ContinuousClock()
            let started = clock.now
            var result: ConformanceResult
            if check == .loads {
                if !isPlugin {
                    result = ConformanceResult(check: check, outcome: .notApplicable, message: loadMessage)
                } else if let loadFailure {
                    result = ConformanceResult(check: check, outcome: .failed, message: loadFailure)
                } else {
                    result = ConformanceResult(check: check, outcome: .passed, message: loadMessage)
                }
            } else if let reason = inputs.notApplicable[check] {
                result = ConformanceResult(check: check, outcome: .notApplicable, message: reason)
            } else if let factory {
                let runner = ConformanceRunner(factory: factory, inputs: inputs, isPlugin: isPlugin)
                do {
                    let message = try await runner.run(check)
                    result = ConformanceResult(check: check, outcome: .passed, message: message)
                } catch {
                    result = ConformanceResult(check: check, outcome: .failed, message: "\(error)")
                }
            } else {
                result = ConformanceResult(check: check, outcome: .failed, message: "Not run: the plugin did not load (\(loadFailure ?? "unknown reason")).")
            }
            result.duration = clock.now - started
            results.append(result)
        }
        await helper?.shutDown()
        return ConformanceReport(subject: subjectName, results: results)
    }
}

/// Lets runs of the suite in one process take turns, so the process check of one run does
/// not count the processes of another.
enum ConformanceLock {
    static let shared = AsyncLock()
}
