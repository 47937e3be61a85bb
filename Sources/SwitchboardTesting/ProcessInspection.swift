import Foundation

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
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let name = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 4, let state = fields[0].first,
              let parent = Int32(fields[1]), let group = Int32(fields[2])
        else { return nil }
        return Process(pid: pid, parent: parent, processGroup: group, state: state, name: name)
    }

    /// Every process whose parent is `parent` (this process by default), zombies included.
    public static func children(of parent: Int32 = getpid()) -> [Process] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.compactMap(process).filter { $0.parent == parent }.sorted { $0.pid < $1.pid }
    }

    /// Every process in process group `group`.
    public static func members(ofGroup group: Int32) -> [Process] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.compactMap(process).filter { $0.processGroup == group }
    }

    /// This process's open descriptors and what each refers to (`pipe:[123]`, a path, …).
    public static func openDescriptors() -> [Int32: String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var result: [Int32: String] = [:]
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)") {
                result[fd] = target
            }
        }
        return result
    }
}
