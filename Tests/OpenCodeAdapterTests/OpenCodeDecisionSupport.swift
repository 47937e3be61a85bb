import Foundation
@testable import OpenCodeAdapter
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting
import Testing

extension FakeOpenCodeInstall {
    /// Makes the project's OpenCode config ask before bash and edit run (OpenCode asks for
    /// nothing by default).
    func askBeforeTools() throws {
        try #"{"permission":{"bash":"ask","edit":"ask"}}"#.write(toFile: project + "/opencode.json", atomically: true, encoding: .utf8)
    }

    /// The bodies of the answers the fake servers received: `(path, body)`.
    var replies: [(path: String, body: JSONValue?)] {
        requests.filter { $0.hasPrefix("REPLY ") }.map { line in
            let rest = line.dropFirst(6)
            let path = rest.prefix { $0 != " " }
            let body = rest.dropFirst(path.count + 1)
            return (String(path), try? JSONValue(parsing: String(body)))
        }
    }

    /// The running fake server, to call as another client of it would.
    func endpoint() throws -> HTTPEndpoint {
        let text = try String(contentsOfFile: data + "/listening.txt", encoding: .utf8)
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 2, let port = Int(words[1]) else { throw FakeServerNotListening() }
        return HTTPEndpoint(host: String(words[0]), port: port, authorization: nil)
    }

    /// `GET path` on the running fake, parsed.
    func get(_ path: String) async throws -> JSONValue {
        let reply = try await endpoint().request("GET", path, timeout: .seconds(5))
        return try JSONValue(parsing: reply.text)
    }

    /// Whether the project holds `file`.
    func has(_ file: String) -> Bool { FileManager.default.fileExists(atPath: project + "/" + file) }
}

struct FakeServerNotListening: Error {}

/// A fake whose project asks before bash and edit, speaking protocol `version`; a manager
/// over the plugin; a started session and its recording client.
func askingSession(_ version: String, _ extra: [String: JSONValue] = [:], configuration: SessionManager.Configuration = .init())
    async throws -> (FakeOpenCodeInstall, SessionManager, String, ClientRecorder) {
    let fake = try FakeOpenCodeInstall()
    try fake.askBeforeTools()
    let manager = try openCodeManager(fake.settings(protocolVersion: version, extra), configuration: configuration)
    let (id, client) = try await startOpenCodeSession(manager, fake)
    return (fake, manager, id, client)
}

extension SessionManager {
    /// Sends a plain message and expects the fake's echo of it: the session works after
    /// whatever came before.
    func expectEcho(_ id: String, _ text: String, on client: ClientRecorder) async throws {
        let before = client.received.count
        try await send(id, text: text)
        try await client.waitForTurnEnd(after: before)
        #expect(client.assistantText(after: before) == "Echo: \(text)")
    }

    /// Sends `text` to session `id` and waits until its turn made `count` decision requests.
    /// - Returns: the frame count before the message, and the requests.
    func send(_ id: String, _ text: String, awaitingRequests count: Int = 1, on client: ClientRecorder) async throws -> (before: Int, requests: [PendingDecision]) {
        let before = client.received.count
        try await send(id, text: text)
        return (before, try await client.waitForRequests(count, after: before))
    }
}

extension ClientRecorder {
    /// The decision requests received after frame `index`.
    func requests(after index: Int = 0) -> [PendingDecision] {
        received.dropFirst(index).compactMap { if case .requested(let pending)? = $0.decision { pending } else { nil } }
    }

    /// The resolutions received after frame `index`.
    func resolutions(after index: Int = 0) -> [DecisionResolution] {
        received.dropFirst(index).compactMap { if case .resolved(let resolution)? = $0.decision { resolution } else { nil } }
    }

    /// Waits until `count` decision requests arrived after frame `index`; returns them.
    @discardableResult
    func waitForRequests(_ count: Int = 1, after index: Int = 0, within timeout: Duration = .seconds(20)) async throws -> [PendingDecision] {
        try await frames.wait(within: timeout) { frames in
            frames.dropFirst(index).filter { if case .requested? = $0.decision { true } else { false } }.count >= count
        }
        return requests(after: index)
    }

    /// Waits for the resolution of request `requestId`; returns it.
    @discardableResult
    func waitForResolution(of requestId: String, within timeout: Duration = .seconds(20)) async throws -> DecisionResolution {
        try await frames.wait(within: timeout) { frames in
            frames.contains { if case .resolved(let r)? = $0.decision { r.requestId == requestId } else { false } }
        }
        return try resolutions().first { $0.requestId == requestId }.unwrapped()
    }

    /// The position among the frames of the resolution of `requestId`.
    func frameIndex(ofResolution requestId: String) -> Int? {
        received.firstIndex { if case .resolved(let r)? = $0.decision { r.requestId == requestId } else { false } }
    }

    /// The position of the first frame after `index` whose message satisfies `predicate`.
    func frameIndex(after index: Int = 0, where predicate: (ChatMessage) -> Bool) -> Int? {
        received.indices.dropFirst(index).first { predicate(received[$0].message) }
    }

    /// The tool results received after frame `index`.
    func toolResults(after index: Int = 0) -> [ChatMessage] {
        messages.dropFirst(index).filter { $0.type == .toolResult }
    }

    /// The assistant text received after frame `index`.
    func assistantText(after index: Int) -> String {
        messages.dropFirst(index).filter { $0.type == .assistant }.map(\.content).joined()
    }
}

struct MissingValue: Error {}

extension Optional {
    func unwrapped() throws -> Wrapped {
        guard let self else { throw MissingValue() }
        return self
    }
}
