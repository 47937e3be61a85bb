#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One process as `/proc/<pid>/stat` describes it: the fields Switchboard needs to check
/// for leftovers (state `Z` is a zombie), parents and process groups.
public struct ProcessStat: Sendable, Hashable {
    /// The process id.
    public var pid: pid_t
    /// The command name (`comm`, at most 15 bytes).
    public var command: String
    /// The state letter: `R`, `S`, `D`, `Z` (zombie), `T`, …
    public var state: Character
    /// The parent's process id.
    public var parent: pid_t
    /// The process group id.
    public var group: pid_t
    /// When it started, in clock ticks since boot; with ``pid``, what identifies a process
    /// (the kernel reuses pids).
    public var startTime: UInt64

    /// Parses the text of a `stat` file: `pid (comm) state ppid pgrp …`. The command may
    /// contain spaces and parentheses, so the fields are read after the last `)`.
    public init?(statText text: String) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close,
              let pid = pid_t(text[..<open].trimmingCharacters(" "))
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is the state (field 3 of the file), [1] the parent (4), [2] the group (5),
        // [19] the start time (22).
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]), let group = pid_t(fields[2]),
              let startTime = UInt64(fields[19])
        else {
            return nil
        }
        self.startTime = startTime
        self.pid = pid
        self.command = String(text[text.index(after: open)..<close])
        self.state = state
        self.parent = parent
        self.group = group
    }

    /// Reads `/proc/<pid>/stat`; `nil` when there is no such process.
    public static func read(_ pid: pid_t) -> ProcessStat? {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ProcessStat(statText: text)
    }

    /// Every process on the machine, read from `/proc` (processes that vanish meanwhile are
    /// skipped).
    public static func all() -> [ProcessStat] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var result: [ProcessStat] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let stat = read(pid) else { continue }
            result.append(stat)
        }
        return result
    }

    /// The process's command line (arguments joined by spaces), or `nil` when it has none
    /// (a zombie, a kernel thread) or is gone.
    public static func commandLine(_ pid: pid_t) -> String? {
        guard let file = fopen("/proc/\(pid)/cmdline", "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        guard !bytes.isEmpty else { return nil }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// Whether `pid` is a ``ProcessGuardian`` (of this or another process).
    public static func isGuardian(_ pid: pid_t) -> Bool {
        commandLine(pid)?.hasSuffix(" " + ProcessGuardian.marker) ?? false
    }

    /// Whether the process has ended: it is gone, or a zombie not yet reaped.
    public static func hasEnded(_ pid: pid_t) -> Bool {
        guard let stat = read(pid) else { return true }
        return stat.state == "Z" || stat.state == "X"
    }
}

extension Substring {
    fileprivate func trimmingCharacters(_ character: Character) -> Substring {
        var text = self
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return text
    }
}
