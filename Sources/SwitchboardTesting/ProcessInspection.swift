import Foundation
import SwitchboardProcess

/// What `/proc` says about processes and descriptors: for tests that check that nothing
/// was left behind (children, zombies, open descriptors).
public enum ProcessInspection {
    /// One process, from `/proc/<pid>/stat`.
    public struct Process: Sendable, Hashable, CustomStringConvertible {
        public var pid: Int32
        public var parent: Int32
        public var processGroup: Int32
        /// The state letter: `R`, `S`, `D`, `Z` (zombie), `T`, ….
        public var state: Character
        /// The command name (at most 15 characters).
        public var name: String

        public var isZombie: Bool { state == "Z" }
        public var description: String { "\(pid) (\(name)) state \(state), parent \(parent), group \(processGroup)" }
    }

    /// A process by id, or `nil` when there is none (not even a zombie).
    public static func process(_ pid: Int32) -> Process? {
        ProcessStat.read(pid).map(process)
    }

    private static func process(_ stat: ProcessStat) -> Process {
        Process(pid: stat.pid, parent: stat.parent, processGroup: stat.group, state: stat.state, name: stat.command)
    }

    /// Every process whose parent is `parent` (this process by default), zombies included,
    /// ``ProcessGuardian`` helpers left out.
    public static func children(of parent: Int32 = getpid()) -> [Process] {
        ProcessStat.all().filter { $0.parent == parent && !ProcessStat.isGuardian($0.pid) }.map(process).sorted { $0.pid < $1.pid }
    }

    /// Every process in process group `group`.
    public static func members(ofGroup group: Int32) -> [Process] {
        ProcessStat.all().filter { $0.group == group }.map(process)
    }

    /// The pipes through which this process's ``ProcessGuardian`` helpers listen (`pipe:[…]`):
    /// they stay open for the life of the plugin image, so descriptor checks leave them out.
    public static func guardianPipes(of parent: Int32 = getpid()) -> Set<String> {
        var pipes: Set<String> = []
        for stat in ProcessStat.all() where stat.parent == parent && ProcessStat.isGuardian(stat.pid) {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(stat.pid)/fd/0") {
                pipes.insert(target)
            }
        }
        return pipes
    }

    /// This process's open descriptors and what each refers to (`pipe:[123]`, a path, …),
    /// the write ends of ``guardianPipes(of:)`` left out.
    public static func openDescriptors() -> [Int32: String] {
        let guardians = guardianPipes()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var result: [Int32: String] = [:]
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
               !guardians.contains(target) {
                result[fd] = target
            }
        }
        return result
    }
}
