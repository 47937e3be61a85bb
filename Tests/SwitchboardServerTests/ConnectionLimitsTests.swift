import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting
#if canImport(Glibc)
import Glibc
#endif

/// Connection patterns that used to freeze the daemon — idle and slow connections, huge
/// heads, silent WebSocket peers, more connections than descriptors — get a bounded answer,
/// and a normal request is still served.
@Suite("Connections: timeouts, limits, oversized heads, pings", .serialized, .childProcessGate)
struct ConnectionLimitsTests {
    static let agents = LiveChatTests.scripted(#"[{"messages":[{"type":"assistant","content":"ok"}]}]"#)
    static let health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    static func daemon(server: String, descriptorLimit: Int? = nil) async throws -> LiveDaemon {
        try await LiveDaemon(agents: agents, extraConfig: #", "server": {\#(server)}"#, descriptorLimit: descriptorLimit)
    }

    /// Raises this process's own descriptor limit (the test holds many connections).
    static func raiseOwnDescriptorLimit(to wanted: Int) -> Bool {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
        if limit.rlim_cur >= rlim_t(wanted) { return true }
        guard limit.rlim_max >= rlim_t(wanted) else { return false }
        limit.rlim_cur = rlim_t(wanted)
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
    }

    /// How many sockets a process has open.
    static func openSockets(of pid: pid_t) -> Int {
        let directory = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)"))?.hasPrefix("socket:") == true }.count
    }

    @Test("1,500 idle connections to a daemon limited to 1024 descriptors: a normal request is still answered within a second")
    func idleConnectionsDoNotLockOut() async throws {
        try #require(Self.raiseOwnDescriptorLimit(to: 1700), "the test needs 1,700 descriptors of its own")
        // A long header timeout: making room must not wait for it.
        let daemon = try await Self.daemon(server: #""headerTimeoutSeconds": 300"#, descriptorLimit: 1024)
        var idle: [RawConnection] = []
        for _ in 0..<1500 { idle.append(try RawConnection(port: daemon.port)) }

        let reply = try RawHTTP.exchange(port: daemon.port, Self.health, timeoutSeconds: 1)
        #expect(reply.status == 200 && reply.body == #"{"status":"ok","store":"sqlite"}"#)

        // The daemon kept at most its connection limit (512 by default) and closed the
        // longest-waiting idle connections to make room for the others.
        let deadline = ContinuousClock.now + .seconds(20)
        var closed = Set<Int>()
        while ContinuousClock.now < deadline && closed.count < 1500 - 512 - 1 {
            for (i, connection) in idle.enumerated() where !closed.contains(i) && connection.readOnce(within: .zero) == .closed {
                closed.insert(i)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let closedCount = closed.count
        #expect(closedCount >= 1500 - 512 - 1, "the daemon closed \(closedCount) of 1500 idle connections")
        #expect(Self.openSockets(of: daemon.process.pid) <= 512 + 16)
        #expect(!daemon.process.stderr.contains("Too many open files"), "\(daemon.process.stderr.suffix(2000))")
        let again = try RawHTTP.exchange(port: daemon.port, Self.health, timeoutSeconds: 1)
        #expect(again.status == 200)
        try await daemon.stop()
    }

    @Test("A head sent byte by byte slower than the header timeout is cut; an idle connection too")
    func slowHeadIsCut() async throws {
        let daemon = try await Self.daemon(server: #""headerTimeoutSeconds": 1"#)
        let slow = try RawConnection(port: daemon.port)
        let head = Array(Self.health.utf8)
        var sent = 0
        var closed = false
        for byte in head {
            guard slow.send([byte]) else { closed = true; break }
            sent += 1
            if slow.readOnce(within: .milliseconds(250)) == .closed { closed = true; break }
        }
        #expect(closed, "the slow head was answered: \(slow.text)")
        #expect(sent < head.count)
        #expect(slow.received.isEmpty)

        let silent = try RawConnection(port: daemon.port)
        #expect(silent.waitForClose(within: .seconds(15)))
        // A prompt request on a new connection is served as usual.
        #expect(try RawHTTP.exchange(port: daemon.port, Self.health).status == 200)
        try await daemon.stop()
    }

    @Test("A keep-alive connection is closed after the idle timeout; requests on it before that are served")
    func keepAliveIdleTimeout() async throws {
        let daemon = try await Self.daemon(server: #""idleTimeoutSeconds": 1"#)
        let connection = try RawConnection(port: daemon.port)
        for _ in 0..<3 {
            connection.send(Self.health)
            #expect(connection.readResponse()?.status == 200)
        }
        #expect(connection.waitForClose(within: .seconds(15)))
        try await daemon.stop()
    }

    @Test("Request heads over server.maxHeaderBytes get 431 with a JSON error: a first request, a keep-alive request, an upgrade")
    func oversizedHeads() async throws {
        let daemon = try await Self.daemon(server: #""maxHeaderBytes": 4096"#)
        let big = "X-Padding: " + String(repeating: "a", count: 8000)
        let expected = #"{"error":{"code":"header_too_large","message":"The request head (request line and header fields) is larger than 4096 bytes."}}"#

        let first = try RawConnection(port: daemon.port)
        first.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\(big)\r\n\r\n")
        let reply = first.readResponse()
        #expect(reply?.status == 431 && reply?.body == expected)
        #expect(reply?.head.contains("Connection: close") == true)
        #expect(first.waitForClose(within: .seconds(10)))

        let keepAlive = try RawConnection(port: daemon.port)
        keepAlive.send(Self.health)
        #expect(keepAlive.readResponse()?.status == 200)
        keepAlive.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\(big)\r\n\r\n")
        #expect(keepAlive.readResponse()?.status == 431)

        let upgrade = try RawConnection(port: daemon.port)
        upgrade.send(RawHTTP.upgrade("/v1/live/w?token=\(daemon.token)", headers: [big]))
        #expect(upgrade.readResponse()?.status == 431)

        // Just under the limit is fine.
        let fits = "X-Padding: " + String(repeating: "a", count: 3000)
        #expect(try RawHTTP.exchange(port: daemon.port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\(fits)\r\n\r\n").status == 200)
        // Garbage gets a 400 with the JSON error, not silence.
        let garbage = try RawConnection(port: daemon.port)
        garbage.send("\u{1}\u{2} nonsense\r\n\r\n")
        let bad = garbage.readResponse()
        #expect(bad?.status == 400 && bad?.body.contains(#""code":"bad_request""#) == true)
        try await daemon.stop()
    }

    @Test("A WebSocket peer that never answers pings is closed (1001 'Ping timeout'); one that answers stays")
    func deadWebSocketPeer() async throws {
        let daemon = try await Self.daemon(server: #""pingIntervalSeconds": 1"#)
        let live = try await daemon.socket("w")
        let dead = try RawConnection(port: daemon.port)
        dead.send(RawHTTP.upgrade("/v1/live/w?token=\(daemon.token)"))
        #expect(dead.waitFor(within: .seconds(10)) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") })
        #expect(dead.text.hasPrefix("HTTP/1.1 101"))
        #expect(dead.waitForClose(within: .seconds(15)), "the silent peer is still connected")
        let frames = RawWebSocket.frames(in: RawWebSocket.afterHead(dead.received))
        #expect(frames.contains { $0.opcode == 0x9 }, "no ping was sent")
        let close = frames.first { $0.opcode == 0x8 }
        #expect(close.map { Array($0.payload.prefix(2)) } == [0x03, 0xE9], "close frame: \(String(describing: close))")
        #expect(close.map { String(decoding: $0.payload.dropFirst(2), as: UTF8.self) } == "Ping timeout")

        // The answering client survived the same pings.
        live.send(["type": .string("connect")])
        try await live.waitFor(type: "session_started")
        #expect(live.closeFrame.items.isEmpty)
        await live.close()
        try await daemon.stop()
    }

    @Test("At server.maxConnections an idle connection makes room; when all are busy a new one gets 503")
    func connectionCap() async throws {
        let daemon = try await Self.daemon(server: #""maxConnections": 3"#)
        // An idle connection gives way to a request.
        let idle = try RawConnection(port: daemon.port)
        var sockets = [try await daemon.socket("w"), try await daemon.socket("w")]
        #expect(try RawHTTP.exchange(port: daemon.port, Self.health).status == 200)
        #expect(idle.waitForClose(within: .seconds(10)))

        // Three WebSockets are busy: nothing can give way.
        sockets.append(try await daemon.socket("w"))
        let refused = try RawHTTP.exchange(port: daemon.port, Self.health)
        #expect(refused.status == 503)
        #expect(refused.body.contains(#""code":"too_many_connections""#))
        #expect(refused.body.contains("The server has 3 connections open, the most it allows (server.maxConnections), and none is idle."))

        // One closes: requests are served again.
        await sockets.removeLast().close()
        let deadline = ContinuousClock.now + .seconds(15)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try RawHTTP.exchange(port: daemon.port, Self.health).status
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status == 200)
        for socket in sockets { await socket.close() }
        try await daemon.stop()
    }
}
