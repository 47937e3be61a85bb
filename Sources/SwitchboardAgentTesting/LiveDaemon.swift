import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization
import SwitchboardAdapterAPI
import SwitchboardTesting

/// A real `switchboard serve` process on a free loopback port, with a config of its own in
/// a temporary directory (state in its `state/`), for end-to-end tests of the daemon.
///
/// ```swift
/// let daemon = try await LiveDaemon(agents: #"{"claude": {"plugin": "libScriptedAdapter.so"}}"#)
/// let socket = try await daemon.socket("w")
/// socket.send(["type": .string("connect")])
/// try await socket.waitFor(type: "session_started")
/// #expect(try await daemon.stop() == 0)
/// ```
public final class LiveDaemon: Sendable {
    /// Where the config and the state are.
    public let directory: TemporaryDirectory
    private let ownsDirectory: Bool
    /// The `switchboard serve` process.
    public let process: SpawnedProcess
    /// The port it listens on.
    public let port: Int
    /// Its bearer token.
    public let token: String

    /// Starts the daemon; `agents` is the config's `agents` object as JSON text and
    /// `extraConfig` more top-level keys (`, "approvals": {…}`). With `directory`, that
    /// directory (and its state) is used and kept, so a second daemon can follow the first.
    /// With `descriptorLimit`, the daemon runs with that many open files at most (soft and hard).
    public init(agents: String, extraConfig: String = "", arguments: [String] = [], in directory: TemporaryDirectory? = nil,
                descriptorLimit: Int? = nil) async throws {
        let dir = try directory ?? TemporaryDirectory(prefix: "switchboard-daemon")
        self.directory = dir
        ownsDirectory = directory == nil
        let config = try dir.write("config.json", """
        {"stateDirectory": "state", "pluginDirectories": ["\(BuildProducts.directory)"], "agents": \(agents)\(extraConfig)}
        """)
        let serve = ["serve", "--config", config, "--port", "0"] + arguments
        if let descriptorLimit {
            // The shell lowers the limit and becomes the daemon (same pid).
            process = try await SpawnedProcess.start(
                "/bin/sh", ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", BuildProducts.executable("switchboard")] + serve
            )
        } else {
            process = try await SpawnedProcess.start(BuildProducts.executable("switchboard"), serve)
        }
        let line: String
        do {
            line = try await process.waitForLine(containing: "listening on http://", within: .seconds(60))
        } catch {
            process.terminate()
            throw DaemonError("the daemon did not start: \(error)\n\(process.stderr)")
        }
        guard let match = line.firstMatch(of: /http:\/\/[^ ]*:(\d+)/), let port = Int(match.1) else {
            throw DaemonError("no port in '\(line)'")
        }
        self.port = port
        token = try String(contentsOfFile: dir.path + "/state/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops it with SIGTERM and returns its exit code.
    @discardableResult
    public func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        return try await process.waitForExit(within: .seconds(30))
    }

    /// Sends an HTTP request; returns the status and the JSON body.
    public func http(_ method: HTTPMethod, _ path: String, body: String? = nil, token: String?? = .none) async throws -> (status: Int, body: JSONValue) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        let bearer = token ?? self.token
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        return (Int(response.status.code), text.isEmpty ? .null : try JSONValue(parsing: text))
    }

    /// Opens a live-chat WebSocket to `workspace`.
    public func socket(_ workspace: String, token: String? = nil, reading: Bool = true) async throws -> LiveSocket {
        try await LiveSocket.open(url: "ws://127.0.0.1:\(port)/v1/live/\(workspace)?token=\(token ?? self.token)", reading: reading)
    }

    deinit {
        process.terminate()
        if ownsDirectory { directory.remove() }
    }
}

/// The daemon did not start, or did not answer as expected.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A WebSocket client that records every frame the server sends.
public final class LiveSocket: Sendable {
    /// Every frame received, parsed as JSON (a frame that is not JSON as a string).
    public let frames: Recorder<JSONValue>
    /// How the connection ended (`<code> <reason>`, `closed`, or `error: …`).
    public let closeFrame: Recorder<String>
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>

    private init(frames: Recorder<JSONValue>, closeFrame: Recorder<String>, outgoing: AsyncStream<String>.Continuation, task: Task<Void, Never>) {
        self.frames = frames
        self.closeFrame = closeFrame
        self.outgoing = outgoing
        self.task = task
    }

    /// Connects; with `reading: false` the client never reads, like a stalled browser tab.
    public static func open(url: String, reading: Bool) async throws -> LiveSocket {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let frames = Recorder<JSONValue>()
        let closeFrame = Recorder<String>()
        let connected = Recorder<Bool>()
        let task = Task {
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "test.ws")) { inbound, outbound, _ in
                    connected.append(true)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in stream { try await outbound.write(.text(text)) }
                            // A close frame ends the reading side too: the server answers it,
                            // and the inbound sequence does not end on cancellation alone.
                            try? await outbound.close(.normalClosure, reason: nil)
                        }
                        group.addTask {
                            guard reading else {
                                try await Task.sleep(for: .seconds(3600))
                                return
                            }
                            for try await message in inbound.messages(maxSize: 1 << 24) {
                                if case .text(let text) = message { frames.append((try? JSONValue(parsing: text)) ?? .string(text)) }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
                closeFrame.append(close.map { "\($0.closeCode) \($0.reason ?? "")" } ?? "closed")
            } catch {
                closeFrame.append("error: \(error)")
            }
            frames.finish()
            connected.finish()
        }
        do {
            try await connected.wait(within: .seconds(30)) { !$0.isEmpty }
        } catch {
            task.cancel()
            throw DaemonError("WebSocket to \(url) did not open: \(closeFrame.items)")
        }
        return LiveSocket(frames: frames, closeFrame: closeFrame, outgoing: continuation, task: task)
    }

    /// Sends one text frame.
    public func send(_ text: String) { outgoing.yield(text) }

    /// Sends a JSON object.
    public func send(_ object: [String: JSONValue]) { send(JSONValue.object(object).jsonText) }

    /// Closes the connection and waits for it to end (for `timeout` at most: a server that
    /// never answers the close frame does not stop the test).
    public func close(within timeout: Duration = .seconds(10)) async {
        outgoing.finish()
        _ = try? await closeFrame.wait(within: timeout) { !$0.isEmpty }
        task.cancel()
    }

    /// The frames of a given `type`.
    public func frames(ofType type: String) -> [JSONValue] { frames.items.filter { $0["type"] == .string(type) } }

    /// Waits for a frame satisfying `predicate` and returns it.
    @discardableResult
    public func waitFor(within timeout: Duration = .seconds(30), _ predicate: @escaping @Sendable (JSONValue) -> Bool) async throws -> JSONValue {
        let items = try await frames.wait(within: timeout) { $0.contains(where: predicate) }
        return items.first(where: predicate)!
    }

    /// Waits for a frame of `type` (counting only frames after `index`).
    @discardableResult
    public func waitFor(type: String, after index: Int = 0, within timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let items = try await frames.wait(within: timeout) { $0.dropFirst(index).contains { $0["type"] == .string(type) } }
        return items.dropFirst(index).first { $0["type"] == .string(type) }!
    }

    /// Waits for the session's status notice.
    public func waitForStatus(_ status: String, after index: Int = 0) async throws {
        let notice = "{\"status\":\"\(status)\"}"
        try await frames.wait(within: .seconds(30)) { $0.dropFirst(index).contains { $0["type"] == .string("system") && $0["content"] == .string(notice) } }
    }

    deinit { task.cancel() }
}
