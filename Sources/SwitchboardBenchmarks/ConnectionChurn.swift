import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardServer
#if canImport(Glibc)
import Glibc
#endif

/// Anonymous resident memory of this process in KiB (`RssAnon` in /proc/self/status).
func anonymousResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// One live-chat WebSocket, opened and closed cleanly over a plain socket: upgrade, wait for
/// the `connected` frame, send a close frame, wait for the server to close. Every read waits
/// at most 10 seconds.
func churnOnce(port: Int, token: String) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return false }
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }
    let upgrade = "GET /v1/live/churn?token=\(token) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    guard send(Array(upgrade.utf8)) else { return false }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    let marker = Array(#""type":"connected""#.utf8)
    while !received.contains(marker) {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        received += chunk[0..<n]
    }
    // A masked close frame with code 1000.
    let mask: [UInt8] = [1, 2, 3, 4]
    guard send([0x88, 0x82] + mask + [0x03 ^ 1, 0xE8 ^ 2]) else { return false }
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return true }
        if n < 0 { return false }
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        return false
    }
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
