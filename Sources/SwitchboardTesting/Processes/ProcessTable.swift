#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SwitchboardAdapterAPI
import SwitchboardProcess

/// The descendants of this process, read from `/proc` — how the conformance suite checks
/// that an adapter left no process behind.
///
/// A process is identified by its pid *and* its start time, so a pid the kernel reused for
/// an unrelated process is not mistaken for the one seen before. Processes that have exited
/// but were not reaped (state `Z`) are still listed: an adapter must reap what it started.
/// ``ProcessGuardian`` helpers are left out: one lives as long as the plugin image that
/// started it, by design.
public struct ProcessTable: Sendable, Hashable {
    /// One process.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// Its process id.
        public var pid: Int32
        /// Its parent's process id.
        public var parentPID: Int32
        /// Its state letter (`R`, `S`, `Z`, …).
        public var state: Character
        /// When it started, in clock ticks since boot; with `pid`, what identifies it.
        public var startTime: UInt64
        /// Its command line, or `[comm]` when it has none (a zombie, a kernel thread).
        public var commandLine: String

        /// `pid N (parent P, state S): command line`.
        public var description: String { "pid \(pid) (parent \(parentPID), state \(state)): \(commandLine)" }

        /// Whether `other` is the same process (same pid, same start time).
        public func isSameProcess(as other: Entry) -> Bool {
            pid == other.pid && startTime == other.startTime
        }
    }

    /// How a plugin helper's command line starts (`switchboard-plugin-host --serve …`).
    public static let pluginHostMarker = "switchboard-plugin-host "

    /// The processes found, by pid.
    public var entries: [Int32: Entry]

    /// Every descendant (children, grandchildren, …) of the process `root` (this one by
    /// default), as `/proc` shows them now.
    /// Plugin helpers (``pluginHostMarker``) are left out unless `includingPluginHosts`; what
    /// they started is listed either way.
    public static func descendants(of root: Int32 = getpid(), includingPluginHosts: Bool = false) -> ProcessTable {
        let all = readAll()
        var children: [Int32: [Int32]] = [:]
        for entry in all.values { children[entry.parentPID, default: []].append(entry.pid) }
        var found: [Int32: Entry] = [:]
        var queue = children[root] ?? []
        var seen: Set<Int32> = []
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted, let entry = all[pid] else { continue }
            // A plugin helper lives as long as its agent type is in use, by design; what it
            // started is counted.
            if includingPluginHosts || !entry.commandLine.hasPrefix(Self.pluginHostMarker) { found[pid] = entry }
            queue.append(contentsOf: children[pid] ?? [])
        }
        return ProcessTable(entries: found)
    }

    /// The processes in `self` that are not in `earlier` (by pid and start time).
    public func subtracting(_ earlier: ProcessTable) -> [Entry] {
        entries.values.filter { entry in
            guard let old = earlier.entries[entry.pid] else { return true }
            return !old.isSameProcess(as: entry)
        }.sorted { $0.pid < $1.pid }
    }

    /// Whether the process `entry` describes still exists (possibly as a zombie).
    public static func isAlive(_ entry: Entry) -> Bool {
        guard let now = read(entry.pid) else { return false }
        return now.isSameProcess(as: entry)
    }

    /// The pids whose ancestry (within `self`) includes one of `roots`, roots included.
    func subtrees(of roots: Set<Int32>) -> Set<Int32> {
        var result: Set<Int32> = []
        for pid in entries.keys {
            var current: Int32? = pid
            var steps = 0
            while let p = current, steps < 64 {
                if roots.contains(p) {
                    result.insert(pid)
                    break
                }
                current = entries[p]?.parentPID
                steps += 1
            }
        }
        return result
    }

    private static func readAll() -> [Int32: Entry] {
        var all: [Int32: Entry] = [:]
        for stat in ProcessStat.all() {
            let entry = entry(stat)
            if entry.commandLine.hasSuffix(" " + ProcessGuardian.marker) { continue }
            all[stat.pid] = entry
        }
        return all
    }

    static func read(_ pid: Int32) -> Entry? {
        ProcessStat.read(pid).map(entry)
    }

    private static func entry(_ stat: ProcessStat) -> Entry {
        let command = ProcessStat.commandLine(stat.pid) ?? "[\(stat.command)]"
        return Entry(pid: stat.pid, parentPID: stat.parent, state: stat.state, startTime: stat.startTime, commandLine: command)
    }
}
