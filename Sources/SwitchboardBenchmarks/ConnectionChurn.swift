import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardServer
import SwitchboardTesting

/// Anonymous resident memory of this process in KiB (`RssAnon` in /proc/self/status).
func anonymousResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// One live-chat WebSocket, opened and closed cleanly over a plain socket: upgrade, wait for
/// the `connected` frame, send a close frame, wait for the server to close. Every wait ends
/// after 10 seconds.
func churnOnce(port: Int, token: String) -> Bool {
    guard let connection = try? LoopbackConnection(port: port) else { return false }
    let upgrade = "GET /v1/live/churn?token=\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    guard connection.send(upgrade),
          connection.waitFor(within: .seconds(10), { String(decoding: $0, as: UTF8.self).contains(#""type":"connected""#) })
    else { return false }
    // A masked close frame with code 1000.
    let mask: [UInt8] = [1, 2, 3, 4]
    return connection.send([0x88, 0x82] + mask + [0x03 ^ 1, 0xE8 ^ 2]) && connection.waitForClose(within: .seconds(10))
}

/// `--connections N`: N WebSocket connect/close cycles against an in-process daemon, with the
/// heap in use and the anonymous resident memory before, along the way and after. Before the
/// leak fix each connection kept about 1.1 KiB.
func runConnectionChurn(count: Int) async throws {
    print("")
    print("9. Connection churn: \(count) WebSocket connect/close cycles against the daemon in this process")
    let token = "benchmark-token-0123456789"
    let server = SwitchboardServer(
        manager: SessionManager(registry: AgentRegistry(), store: NullStore(), logger: quiet),
        store: NullStore(), catalog: PluginCatalog.load(.defaults(bundledPluginDirectory: "/nonexistent")),
        configuration: .init(host: "127.0.0.1", port: 0, token: token, defaultAgentType: "none"),
        logger: quiet
    )
    let listening = AsyncStream<Int>.makeStream()
    let group = ServiceGroup(services: [server.makeApplication { _, port in listening.continuation.yield(port) }], logger: quiet)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var port = 0
        for await p in listening.stream { port = p; break }
        let step = Swift.max(1, count / 10)
        var failures = 0
        let start = ContinuousClock.now
        print("   connections   heap in use   RssAnon")
        for i in 0..<count {
            if !churnOnce(port: port, token: token) { failures += 1 }
            if i == 0 || (i + 1) % step == 0 {
                print("   \(String(i + 1).padding(toLength: 11, withPad: " ", startingAt: 0))   \(String(format: "%7.1f", Double(heapBytesInUse()) / 1024)) KiB   \(anonymousResidentKiB()) KiB")
            }
        }
        let elapsed = ContinuousClock.now - start
        print("   \(count) cycles in \(elapsed), \(failures) failed")
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
