import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardCore
import SwitchboardTesting

extension ClaudeCLITests {
    /// Many start/turn/interrupt/dispose cycles leave nothing behind.
    @Suite("Process hygiene")
    struct Hygiene {
        /// `$SWITCHBOARD_CLAUDE_CYCLES`, default 80. The issue asks for 200; on the 2-core
        /// CI machine every cycle starts a real `claude` (~0.5 s of start-up), so 200 take
        /// several minutes — run them with `SWITCHBOARD_CLAUDE_CYCLES=200 swift test --filter Hygiene`.
        static var cycles: Int {
            ProcessInfo.processInfo.environment["SWITCHBOARD_CLAUDE_CYCLES"].flatMap(Int.init) ?? 80
        }

        /// `$SWITCHBOARD_CLAUDE_LANES` sessions cycle at the same time, default 2.
        static var lanes: Int {
            max(1, ProcessInfo.processInfo.environment["SWITCHBOARD_CLAUDE_LANES"].flatMap(Int.init) ?? 2)
        }

        /// One cycle: start a session, stream a slow reply, interrupt it, dispose. Returns the
        /// process groups of the claude processes running mid-turn (its own among them).
        static func cycle(_ bed: ClaudeTestbed, _ manager: SessionManager, _ number: Int) async throws -> [Int32] {
            let session = try await bed.open(manager)
            let mark = session.client.received.count
            try await manager.send(session.id, text: "Cycle \(number): count slowly")
            try await session.client.waitForMessage(after: mark) { $0.type == .assistant }
            let groups = ClaudeTestbed.claudeChildren().map(\.processGroup)
            await manager.interrupt(session.id)
            try await session.client.waitForStatus(.interrupted, after: mark, within: .seconds(60))
            await manager.dispose(session.id)
            return groups
        }

        @Test("Start/turn/interrupt/dispose cycles leave no child, no zombie, no orphan and no extra descriptor")
        func cycles() async throws {
            try await ClaudeTestbed.run { bed in
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
                let elapsed = clock.now - started
                print("Claude hygiene: \(total) cycles in \(lanes) lanes took \(elapsed)")
                #expect(groups.count >= total, "every cycle ran its own claude process")
                #expect(bed.api.requests.items.count == total + 1)

                // Dispose promises the processes are reaped: check at once, no waiting.
                #expect(ClaudeTestbed.claudeChildren().isEmpty, "\(ClaudeTestbed.claudeChildren())")
                let zombies = ProcessInspection.children().filter(\.isZombie)
                #expect(zombies.filter { groups.contains($0.processGroup) }.isEmpty, "\(zombies)")
                let leftovers = groups.flatMap { ProcessInspection.members(ofGroup: $0) }
                #expect(leftovers.isEmpty, "processes left in the claude process groups: \(leftovers)")

                // The adapter talks to claude through pipes only, so a leak would be a pipe.
                // Other suites in this process hold files, sockets and event loops of their own
                // for minutes (the out-of-tree build), so only pipes are compared; wait
                // (bounded) until every pipe not in the baseline is gone.
                var extra: [Int32: String] = [:]
                try await ClaudeTestbed.poll(within: .seconds(30), "pipes opened and not closed: \(extra)") {
                    let now = ProcessInspection.openDescriptors()
                    extra = now.filter { $0.value.hasPrefix("pipe:") && baseline[$0.key] != $0.value }
                    return extra.isEmpty
                }
            }
        }
    }
}
