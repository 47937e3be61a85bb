import Foundation
import SwitchboardAdapterAPI

/// How the fake behaves, from its command line and environment.
struct FakeOpenCodeOptions: Sendable {
    var port = 4096
    var hostname = "127.0.0.1"
    /// `FAKE_OPENCODE_PROTOCOL`: the OpenCode version whose protocol the fake speaks, as
    /// `major.minor` (default `1.2`); see ``FakeProtocol``.
    var version = FakeProtocol(major: 1, minor: 2)
    /// Streams text as `message.part.delta` (≥ 1.2), else as the `delta` of `message.part.updated`.
    var deltaEvents: Bool { version.atLeast(1, 2) }
    /// The project's `opencode.json` `permission` key: which tools ask (`ask`), are refused
    /// (`deny`) or run (`allow`, the default). A string applies to every tool.
    var permissions: [String: String] = [:]
    /// `FAKE_OPENCODE_START_DELAY_MS`: how long to wait before listening.
    var startDelay: Duration = .zero
    /// `FAKE_OPENCODE_FAIL_START`: a reason; the fake prints it and exits with status 1.
    var failStart: String?
    /// `FAKE_OPENCODE_DATA`: where sessions persist (like OpenCode's storage) and where every
    /// request is logged (`requests.log`, one line each: method, path, body).
    var dataDirectory: String?
    /// OPENCODE_SERVER_PASSWORD / OPENCODE_SERVER_USERNAME: Basic auth on every route.
    var password: String?
    var username = "opencode"

    init(arguments: [String], environment: [String: String]) {
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "--port" where index + 1 < arguments.count:
                port = Int(arguments[index + 1]) ?? port
                index += 1
            case "--hostname" where index + 1 < arguments.count:
                hostname = arguments[index + 1]
                index += 1
            default: break
            }
            index += 1
        }
        if let text = environment["FAKE_OPENCODE_PROTOCOL"], let parsed = FakeProtocol(text) { version = parsed }
        permissions = Self.permissionConfig(atPath: FileManager.default.currentDirectoryPath + "/opencode.json")
        if let ms = environment["FAKE_OPENCODE_START_DELAY_MS"].flatMap({ Int($0) }) { startDelay = .milliseconds(ms) }
        failStart = environment["FAKE_OPENCODE_FAIL_START"]
        dataDirectory = environment["FAKE_OPENCODE_DATA"]
        password = environment["OPENCODE_SERVER_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let name = environment["OPENCODE_SERVER_USERNAME"], !name.isEmpty { username = name }
    }
}

/// The fake's sessions, subscribers, running turns, and the permission requests and
/// questions that wait for an answer (see FakeRequests.swift).
actor FakeOpenCodeState {
    let options: FakeOpenCodeOptions
    private var sessions: [String] = []
    /// The requests the server lists (`GET /permission`, `GET /question`), by id.
    var listed: [String: FakePending] = [:]
    /// The tools waiting for an answer, by request id: resumed once, with the answer or the abort.
    var waiters: [String: (session: String, continuation: AsyncStream<FakeAnswer>.Continuation)] = [:]
    /// What `always` approved: the new generation's rules (`permission`, `pattern`) for the
    /// whole instance; the old generation's patterns per session.
    var approved: [(permission: String, pattern: String)] = []
    var approvedLegacy: [String: Set<String>] = [:]
    private var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
    private var nextSubscriber = 0
    private var aborted: Set<String> = []
    private var counter = 0

    init(options: FakeOpenCodeOptions) {
        self.options = options
        if let dir = options.dataDirectory, let text = try? String(contentsOfFile: dir + "/sessions.txt", encoding: .utf8) {
            sessions = text.split(separator: "\n").map(String.init)
        }
    }

    func log(_ line: String) {
        guard let dir = options.dataDirectory else { return }
        let path = dir + "/requests.log"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try? handle.close()
        }
    }

    func newID(_ prefix: String) -> String {
        counter += 1
        let random = String(UInt64.random(in: 0..<(1 << 40)), radix: 36)
        return "\(prefix)_\(String(Int(Date().timeIntervalSince1970 * 1000), radix: 16))\(counter)\(random)"
    }

    func createSession() -> String {
        let id = newID("ses")
        sessions.append(id)
        if let dir = options.dataDirectory {
            try? sessions.joined(separator: "\n").write(toFile: dir + "/sessions.txt", atomically: true, encoding: .utf8)
        }
        return id
    }

    /// A sub-agent's session (the task tool's), announced with `session.created`.
    func createSession(parent: String) -> String {
        let id = createSession()
        let now = JSONValue.int(Int(Date().timeIntervalSince1970 * 1000))
        publish("session.created", ["info": .object([
            "id": .string(id), "parentID": .string(parent), "title": .string("Run a command (@general subagent)"),
            "directory": .string(FileManager.default.currentDirectoryPath), "time": .object(["created": now, "updated": now]),
        ])])
        return id
    }

    func hasSession(_ id: String) -> Bool { sessions.contains(id) }
    var allSessions: [String] { sessions }

    func subscribe() -> (Int, AsyncStream<String>) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        nextSubscriber += 1
        subscribers[nextSubscriber] = continuation
        return (nextSubscriber, stream)
    }

    func unsubscribe(_ id: Int) { subscribers[id]?.finish(); subscribers[id] = nil }

    func publish(_ type: String, _ properties: [String: JSONValue]) {
        var event: [String: JSONValue] = ["type": .string(type), "properties": .object(properties)]
        // OpenCode 1.18 gives every frame an id of its own.
        if options.version.atLeast(1, 18) { event["id"] = .string(newID("evt")) }
        let text = JSONValue.object(event).jsonText
        for continuation in subscribers.values { continuation.yield(text) }
    }

    func abort(_ session: String) { aborted.insert(session) }
    func clearAbort(_ session: String) { aborted.remove(session) }
    func isAborted(_ session: String) -> Bool { aborted.contains(session) }
}
