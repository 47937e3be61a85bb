import Foundation
import NIOHTTP1
import Synchronization
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// What the daemon holds stays bounded — memory per connection, live sessions — and a store
/// it can no longer write to is reported instead of acknowledging writes that are lost.
@Suite("Reliability: memory per connection, the live-session cap, store health", .serialized, .childProcessGate)
struct ReliabilityTests {
    static let agents = LiveChatTests.scripted(#"[{"messages":[{"type":"assistant","content":"ok"}]}]"#)

    /// Anonymous resident memory of a process in KiB (`RssAnon`: the heap and stacks, not the
    /// executable's pages, which fill in as code runs for the first time).
    static func anonymousResidentKiB(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    /// One WebSocket connection: upgrade, wait for `connected`, close cleanly.
    static func connectAndClose(port: Int, token: String) throws {
        let connection = try RawConnection(port: port)
        connection.send(RawHTTP.upgrade("/v1/live/w?token=\(token)"))
        guard connection.waitFor(within: .seconds(10), { String(decoding: $0, as: UTF8.self).contains(#""type":"connected""#) }) else {
            throw DaemonError("no connected frame: \(connection.text)")
        }
        connection.send(RawWebSocket.clientFrame(opcode: 0x8, [0x03, 0xE8]))
        guard connection.waitForClose(within: .seconds(10)) else { throw DaemonError("the daemon did not close the WebSocket") }
    }

    @Test("WebSocket connect/close cycles: the daemon's resident memory settles and then stays (20,000 cycles in the benchmarks)")
    func connectCloseMemorySettles() async throws {
        // A closed connection's ping timer (a sleeping task) is freed only when it would have
        // fired: with the default 30 s, memory fills for half a minute before it settles.
        let daemon = try await LiveDaemon(agents: Self.agents, extraConfig: #", "server": {"pingIntervalSeconds": 1}"#)
        let pid = daemon.process.pid
        let port = daemon.port, token = daemon.token
        func batch(_ count: Int) throws -> Int {
            // Four clients at once, on threads of their own: the daemon has both cores.
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                for _ in 0..<(count / 4) {
                    do { try Self.connectAndClose(port: port, token: token) } catch {
                        failures.withLock { $0.append("\(error)") }
                        return
                    }
                }
            }
            if let failure = failures.withLock({ $0.first }) { throw DaemonError(failure) }
            return Self.anonymousResidentKiB(of: pid) ?? Int.max
        }
        // Allocator arenas fill during the first connections; the leak this guards against
        // (about 1.1 KiB a connection) never lets a batch of 500 grow by less than 500 KiB.
        var samples = [try batch(500)]
        var settled = false
        while !settled && samples.count < 24 {
            samples.append(try batch(500))
            settled = samples[samples.count - 1] - samples[samples.count - 2] < 64
        }
        #expect(settled, "anonymous resident KiB after each 500 connections: \(samples)")
        let before = samples.last!
        let after = try batch(2000)
        #expect(after - before < 256, "after settling at \(before) KiB, 2,000 more connections: \(after) KiB; before that: \(samples)")
        try await daemon.stop()
    }

    @Test("At maxLiveSessions a start gets 503 too_many_sessions (an error frame on the WebSocket); after a delete it works again")
    func liveSessionCap() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents, extraConfig: #", "maxLiveSessions": 2"#)
        let message = "This server already runs 2 live sessions, the most it allows (maxLiveSessions). Delete a session or let an idle one expire, then try again."
        let first = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#)
        let second = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#)
        #expect(first.status == 201 && second.status == 201)
        let third = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#)
        #expect(third.status == 503)
        #expect(third.body == .object(["error": .object(["code": .string("too_many_sessions"), "message": .string(message)])]))

        let socket = try await daemon.socket("w")
        socket.send(["type": .string("connect")])
        let error = try await socket.waitFor(type: "error")
        #expect(error["content"] == .string(message))

        let id = try #require(first.body["sessionId"]?.stringValue)
        #expect(try await daemon.http(.DELETE, "/v1/sessions/\(id)").status == 204)
        socket.send(["type": .string("connect")])
        try await socket.waitFor(type: "session_started")
        await socket.close()
        try await daemon.stop()
    }

    @Test("The store file removed while the daemon runs: /health 503 with the reason, logged, and no start acknowledged")
    func storeRemoved() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store")
        defer { dir.remove() }
        let daemon = try await LiveDaemon(agents: Self.agents, in: dir)
        let before = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"kept-1"}"#)
        #expect(before.status == 201)
        let file = dir.path + "/state/sessions.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }

        let health = try await daemon.http(.GET, "/health", token: .some(nil))
        let reason = "Session store '\(file)' was removed while it was open, so what is written to it would be lost; writes are refused until the store is opened again (restart the daemon)."
        #expect(health.status == 503)
        #expect(health.body == .object(["status": .string("unavailable"), "store": .string("sqlite"), "reason": .string(reason)]))
        try await daemon.process.errorLines.wait(within: .seconds(15)) { $0.contains { $0.contains("error switchboard: [SwitchboardServer] session store unusable") } }

        let refused = try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w","sessionId":"lost-1"}"#)
        #expect(refused.status == 503)
        #expect(refused.body["error"]?["code"] == .string("store_unavailable"))
        #expect(refused.body["error"]?["message"] == .string("Could not create session 'lost-1': \(reason)"))
        #expect(try await daemon.http(.GET, "/v1/sessions/lost-1").status == 404)

        // Started again, the daemon has a new, empty store and is healthy.
        try await daemon.stop()
        let again = try await LiveDaemon(agents: Self.agents, in: dir)
        #expect(try await again.http(.GET, "/health", token: .some(nil)).status == 200)
        #expect(try await again.http(.GET, "/v1/sessions/lost-1").status == 404)
        #expect(try await again.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#).status == 201)
        try await again.stop()
    }

    @Test("The store file replaced by another file while the daemon runs: /health 503, writes refused")
    func storeReplaced() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#).status == 201)
        let file = daemon.directory.path + "/state/sessions.sqlite"
        let copy = daemon.directory.path + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        _ = rename(copy, file)

        let health = try await daemon.http(.GET, "/health", token: .some(nil))
        #expect(health.status == 503)
        #expect(health.body["reason"]?.stringValue?.contains("was replaced by another file while it was open") == true)
        let head = try RawHTTP.exchange(port: daemon.port, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(head.status == 503)
        #expect(try await daemon.http(.POST, "/v1/sessions", body: #"{"workspace":"w"}"#).status == 503)
        try await daemon.stop()
    }
}
