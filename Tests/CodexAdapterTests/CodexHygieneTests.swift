import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension CodexCLITests {
    /// Many start/turn/interrupt/dispose cycles leave nothing behind.
    @Suite("Process hygiene")
    struct Hygiene {
        /// `$SWITCHBOARD_CODEX_CYCLES`, default 50: every cycle starts a real `codex
        /// app-server` (about 0.4 s each in 2 lanes on 2 cores), so the default takes about 20 s.
        static var cycles: Int {
            ProcessInfo.processInfo.environment["SWITCHBOARD_CODEX_CYCLES"].flatMap(Int.init) ?? 50
        }

        /// `$SWITCHBOARD_CODEX_LANES` sessions cycle at the same time, default 2.
        static var lanes: Int {
            max(1, ProcessInfo.processInfo.environment["SWITCHBOARD_CODEX_LANES"].flatMap(Int.init) ?? 2)
        }

        /// One cycle: start a session, stream a slow reply, interrupt it, dispose. Returns the
        /// process groups of the codex processes running mid-turn (its own among them).
        static func cycle(_ bed: CodexTestbed, _ manager: SessionManager, _ number: Int) async throws -> [Int32] {
            let session = try await bed.open(manager)
            let mark = session.client.received.count
            try await manager.send(session.id, text: "Cycle \(number): count slowly")
            try await CodexTestbed.waitForMessage(session.client, after: mark) { $0.type == .assistant }
            let groups = CodexTestbed.codexChildren().map(\.processGroup)
            await manager.interrupt(session.id)
            try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(60))
            await manager.dispose(session.id)
            return groups
        }

        @Test("Start/turn/interrupt/dispose cycles leave no child, no zombie, no orphan and no extra descriptor")
        func cycles() async throws {
            try await CodexTestbed.run { bed in
                bed.api.setDefaultReply(.slow(count: 2000, interval: .milliseconds(20)))
                let manager = try bed.manager()
                // One cycle first, so one-time descriptors (the event loop, epoll) exist.
                _ = try await Self.cycle(bed, manager, 0)
                let baseline = ProcessInspection.openDescriptors()

                let total = Self.cycles
                let lanes = Self.lanes
                let clock = ContinuousClock()
                let started = clock.now
                let groups = try await withThrowingTaskGroup(of: Set<Int32>.self) { group in
                    for lane in 0..<lanes {
                        group.addTask {
                            var groups: Set<Int32> = []
                            for number in stride(from: lane + 1, through: total, by: lanes) {
                                let seen = try await Self.cycle(bed, manager, number)
                                #expect(!seen.isEmpty && seen.count <= lanes, "\(seen)")
                                groups.formUnion(seen)
                            }
                            return groups
                        }
                    }
                    return try await group.reduce(into: Set<Int32>()) { $0.formUnion($1) }
                }
                print("Codex hygiene: \(total) cycles in \(lanes) lanes took \(clock.now - started)")
                #expect(groups.count >= total, "every cycle ran its own codex process")
                #expect(bed.api.requests.items.count == total + 1)

                // Dispose promises the processes are reaped: check at once, no waiting.
                #expect(CodexTestbed.codexChildren().isEmpty, "\(CodexTestbed.codexChildren())")
                let zombies = ProcessInspection.children().filter(\.isZombie)
                #expect(zombies.filter { groups.contains($0.processGroup) }.isEmpty, "\(zombies)")
                try await CodexTestbed.expectGroupsGone(Array(groups))

                // The adapter talks to codex through pipes only, so a leak would be a pipe;
                // other suites in this process hold descriptors of their own.
                var extra: [Int32: String] = [:]
                try await CodexTestbed.poll(within: .seconds(30), "pipes opened and not closed: \(extra)") {
                    let now = ProcessInspection.openDescriptors()
                    extra = now.filter { $0.value.hasPrefix("pipe:") && baseline[$0.key] != $0.value }
                    return extra.isEmpty
                }
            }
        }
    }
}
