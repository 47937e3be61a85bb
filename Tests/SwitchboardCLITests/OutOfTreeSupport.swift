import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

extension Tag {
    /// Tests that build something with `swift build` or run a long conformance suite.
    @Tag static var slow: Self
}

/// The repository, found from this file's location.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// Builds `Examples/EchoAgent` once per test run, with the command the docs show, in its own
/// package (its own `.build`): never the root package, whose `.build` is locked while
/// `swift test` runs.
enum EchoAgentBuild {
    /// The command, run from the repository root.
    static let command = "swift build --package-path Examples/EchoAgent"

    struct Built: Sendable {
        /// The plugin file.
        var plugin: String
        /// How long `swift build` took.
        var duration: Duration
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// The one build; every test that needs the example awaits it.
    static let once = Task { try await build() }

    private static func build() async throws -> Built {
        guard let swift = ChildProcess.which("swift") else { throw Failed(description: "'swift' is not on PATH") }
        let arguments = Array(command.split(separator: " ").dropFirst().map(String.init))
        let clock = ContinuousClock()
        let started = clock.now
        let build = try await ChildProcess.launch(swift, arguments, currentDirectory: Repository.root, timeout: .seconds(1800))
        let duration = clock.now - started
        guard build.status == 0 else {
            throw Failed(description: "'\(command)' failed with status \(build.status):\n\(build.stdout)\(build.stderr)")
        }
        let bin = try await ChildProcess.launch(swift, arguments + ["--show-bin-path"], currentDirectory: Repository.root, timeout: .seconds(300))
        let directory = bin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let plugin = directory + "/libEchoAgent.so"
        guard bin.status == 0, FileManager.default.fileExists(atPath: plugin) else {
            throw Failed(description: "'\(command)' succeeded but '\(plugin)' is not there: \(bin.stderr)")
        }
        print("Out-of-tree build: '\(command)' took \(duration).")
        return Built(plugin: plugin, duration: duration)
    }
}

/// Runs the example's own tests (which run the conformance suite on it) once per test run,
/// after the one build of the example: both use `Examples/EchoAgent/.build`.
enum EchoAgentTests {
    /// The command, run from the repository root.
    static let command = "swift test --package-path Examples/EchoAgent"

    static let once = Task { () async throws -> ChildProcess.Result in
        _ = try await EchoAgentBuild.once.value
        guard let swift = ChildProcess.which("swift") else { throw EchoAgentBuild.Failed(description: "'swift' is not on PATH") }
        let arguments = Array(command.split(separator: " ").dropFirst().map(String.init))
        return try await ChildProcess.launch(swift, arguments, currentDirectory: Repository.root, timeout: .seconds(1800))
    }
}

/// What identifies the built `switchboard` binary: its SHA-256 and its bytes.
struct BinaryFingerprint: Equatable, CustomStringConvertible {
    var sha256: String
    var size: Int
    var bytes: Data

    init(_ path: String) throws {
        bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        size = bytes.count
        let sum = try ChildProcess.run("/usr/bin/sha256sum", [path])
        sha256 = String(sum.stdout.prefix(while: { !$0.isWhitespace }))
    }

    var description: String { "\(size) bytes, sha256 \(sha256)" }
}

/// Runs one turn of `agentType` from the config file through the session manager, as the
/// daemon will: catalog → registry → session → client.
/// TODO(daemon): once `switchboard serve` exists, run this turn through the daemon (start it
/// with the config, connect a client, send, read the frames) instead of in-process.
func runTurnThroughSessionManager(config path: String, agentType: String, text: String) async throws -> [ChatMessage] {
    let config = try SwitchboardConfig.load(path: path, bundledPluginDirectory: BuildProducts.directory)
    let catalog = PluginCatalog.load(config)
    let manager = SessionManager(registry: catalog.registry, store: InMemorySessionStore(), configuration: .init(config))
    let id = try await manager.start(SessionStartOptions(workspaceName: "@host", agentType: agentType, model: "demo-model"))
    let client = ClientRecorder()
    _ = await manager.connect(id, client: client.client)
    try await manager.send(id, text: text)
    try await client.waitForMessage { $0.type == .done }
    await manager.dispose(id)
    return client.messages
}
