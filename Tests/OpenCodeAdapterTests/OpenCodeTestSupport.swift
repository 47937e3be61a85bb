import Foundation
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting

/// A fake OpenCode installation for one test: a `bin` directory with an `opencode` script
/// that execs the built `fake-opencode`, and a `docker` script that runs `docker exec`
/// commands on this machine (and answers `docker inspect` with 127.0.0.1); a data directory
/// where the fake keeps its sessions and logs every request; a project directory.
struct FakeOpenCodeInstall {
    let root: TemporaryDirectory
    let bin: String
    let data: String
    let project: String

    init() throws {
        root = try TemporaryDirectory(prefix: "opencode-test")
        bin = root.path + "/bin"
        data = root.path + "/data"
        project = root.path + "/project"
        for dir in [bin, data, project] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fake = BuildProducts.executable("fake-opencode")
        try Self.script(bin + "/opencode", "#!/bin/sh\nexec '\(fake)' \"$@\"\n")
        try Self.script(bin + "/docker", """
        #!/bin/sh
        # A fake docker: logs its arguments; `inspect` prints an address; `exec` runs the
        # command here, in the -w directory (environment passes through as with -e NAME).
        echo "$*" >> '\(data)/docker.log'
        case "$1" in
          inspect) echo "127.0.0.1 "; exit 0 ;;
          exec) shift ;;
          *) echo "fake docker: unsupported command $1" >&2; exit 1 ;;
        esac
        dir=
        while [ $# -gt 0 ]; do
          case "$1" in
            -w) dir=$2; shift 2 ;;
            -e) shift 2 ;;
            -i|-t) shift ;;
            *) break ;;
          esac
        done
        shift  # the container name
        [ -n "$dir" ] && cd "$dir"
        exec "$@"

        """)
    }

    private static func script(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    func remove() { root.remove() }

    /// Settings that run the fake: PATH finds the fake `opencode` and `docker` first.
    func settings(protocolVersion: String = "1.2", _ extra: [String: JSONValue] = [:], environment: [String: String] = [:]) -> JSONValue {
        var env: [String: JSONValue] = [
            "PATH": .string(bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")),
            "FAKE_OPENCODE_DATA": .string(data),
            "FAKE_OPENCODE_PROTOCOL": .string(protocolVersion),
        ]
        for (key, value) in environment { env[key] = .string(value) }
        var object: [String: JSONValue] = ["env": .object(env), "readyTimeoutSeconds": .int(20)]
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    /// Every request the fake servers received: `METHOD /path`, and `BODY <json>` after prompts.
    var requests: [String] {
        ((try? String(contentsOfFile: data + "/requests.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The prompt bodies, parsed.
    var promptBodies: [JSONValue] {
        requests.filter { $0.hasPrefix("BODY ") }.compactMap { try? JSONValue(parsing: String($0.dropFirst(5))) }
    }

    var dockerLog: [String] {
        ((try? String(contentsOfFile: data + "/docker.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The fake servers running as children of this process.
    static var runningServers: [pid_t] {
        childProcesses(of: getpid()).filter { $0.command.hasPrefix("fake-opencode") && $0.state != "Z" }.map(\.pid)
    }
}

/// A session manager over the OpenCode plugin loaded from its `.so`.
func openCodeManager(_ settings: JSONValue, store: any SessionStore = InMemorySessionStore(),
                     configuration: SessionManager.Configuration = .init()) throws -> SessionManager {
    let registry = AgentRegistry()
    try registry.register(plugin: try PluginLoader.load(BuildProducts.plugin("OpenCodeAdapter")), settings: settings)
    return SessionManager(registry: registry, store: store, configuration: configuration)
}

/// Starts a host session and connects a recording client.
func startOpenCodeSession(_ manager: SessionManager, _ fake: FakeOpenCodeInstall, workspace: String = "@host",
                          agentSessionId: String? = nil, model: String? = nil, sessionId: String? = nil) async throws -> (String, ClientRecorder) {
    let id = try await manager.start(SessionStartOptions(
        workspaceName: workspace, agentType: "opencode", sessionId: sessionId, agentSessionId: agentSessionId,
        model: model, projectPath: fake.project
    ))
    let client = ClientRecorder()
    _ = await manager.connect(id, client: client.client)
    if agentSessionId == nil && sessionId == nil {
        // The manager has linked the new OpenCode session once its notice arrived.
        try await client.waitForMessage { $0.type == .system && $0.content.hasPrefix("Session: ") }
    }
    return (id, client)
}

extension ClientRecorder {
    /// The assistant text received so far.
    var assistantText: String { messages.filter { $0.type == .assistant }.map(\.content).joined() }

    /// Waits until a turn ended (after `index` frames): a `done`, then the session's
    /// `idle` status notice (only then may the next message be sent); returns the `done`.
    @discardableResult
    func waitForTurnEnd(after index: Int, within timeout: Duration = .seconds(20)) async throws -> ChatMessage {
        let frames = try await self.frames.wait(within: timeout) { frames in
            guard let done = frames.dropFirst(index).firstIndex(where: { $0.message.type == .done }) else { return false }
            return frames[done...].contains { $0.notice == .status(.idle) }
        }
        return frames.dropFirst(index).first { $0.message.type == .done }!.message
    }

    /// Waits for a message of `type` (after `index` frames) and returns it.
    @discardableResult
    func waitFor(_ type: ChatMessage.Kind, after index: Int = 0, within timeout: Duration = .seconds(20)) async throws -> ChatMessage {
        let frames = try await self.frames.wait(within: timeout) { frames in frames.dropFirst(index).contains { $0.message.type == type } }
        return frames.dropFirst(index).first { $0.message.type == type }!.message
    }
}
