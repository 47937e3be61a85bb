import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process groups a daemon owns, recorded in files of its state directory, so that the
/// next daemon can reap what a daemon that died without cleaning up left behind.
///
/// The daemon calls ``enable(directory:)`` at start: it names the directory in
/// ``environmentVariable``, which every ``ProcessGuardian`` (in the daemon, in inline
/// plugins and in plugin helper processes, which inherit the environment) reads. Each
/// guardian then appends `+<group> <start time>` when it guards a group and `-<group>` when
/// it releases it, to a file of its own named after its process (`<pid>-<n>.groups`, first
/// line `owner <pid> <start time>`).
///
/// ``reapLeftovers(in:)`` reads every file whose owner is no longer running and kills each
/// group still listed whose leader is the recorded process (same start time) or, with the
/// leader gone, whose members still run (a group id is not reused while any member lives).
public enum ProcessRecords {
    /// The environment variable naming the records directory.
    public static let environmentVariable = "SWITCHBOARD_PROCESS_RECORDS"

    private static let file = Mutex<(fd: Int32, opened: Bool)>((-1, false))
    private static let counter = Atomic<Int>(0)

    /// Records groups in `directory` from now on, in this process and its children.
    /// - Returns: false when the directory cannot be created.
    @discardableResult
    public static func enable(directory: String) -> Bool {
        _ = mkdir(directory, 0o700)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return false }
        setenv(environmentVariable, directory, 1)
        return true
    }

    static func added(_ group: pid_t) {
        let start = ProcessStat.read(group)?.startTime ?? 0
        append("+\(group) \(start)\n")
    }

    static func removed(_ group: pid_t) {
        append("-\(group)\n")
    }

    private static func append(_ line: String) {
        file.withLock { f in
            if !f.opened {
                f.opened = true
                f.fd = openFile()
            }
            guard f.fd >= 0 else { return }
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { write(f.fd, $0.baseAddress, $0.count) }
        }
    }

    private static func openFile() -> Int32 {
        guard let value = getenv(environmentVariable) else { return -1 }
        let directory = String(cString: value)
        guard !directory.isEmpty else { return -1 }
        let me = getpid()
        let n = counter.add(1, ordering: .relaxed).newValue
        // Several images in one process each have their own guardian and file.
        var token: UInt64 = 0
        withUnsafeMutableBytes(of: &token) { _ = getentropy($0.baseAddress, $0.count) }
        let path = "\(directory)/\(me)-\(n)-\(token % 1_000_000_007).groups"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return -1 }
        let header = Array("owner \(me) \(ProcessStat.read(me)?.startTime ?? 0)\n".utf8)
        _ = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return fd
    }

    /// Kills what dead owners left and removes their files; files of live owners stay.
    /// - Returns: the groups killed.
    @discardableResult
    public static func reapLeftovers(in directory: String) -> [pid_t] {
        var killed: [pid_t] = []
        // Twice: a helper left running by a dead daemon is killed in the first pass, and its
        // own file (its owner now dead) is read in the second.
        for _ in 0..<2 {
            guard let dir = opendir(directory) else { return killed }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasSuffix(".groups") { names.append(name) }
            }
            closedir(dir)
            for name in names.sorted() {
                let path = "\(directory)/\(name)"
                guard let text = readText(path) else { continue }
                let lines = text.split(separator: "\n")
                guard let header = lines.first, header.hasPrefix("owner ") else {
                    unlink(path)
                    continue
                }
                let fields = header.split(separator: " ")
                if fields.count == 3, let owner = pid_t(fields[1]), let start = UInt64(fields[2]),
                   let now = ProcessStat.read(owner), now.startTime == start, now.state != "Z" {
                    continue  // its owner still runs
                }
                var groups: [pid_t: UInt64] = [:]
                for line in lines.dropFirst() {
                    let parts = line.dropFirst().split(separator: " ")
                    guard let group = parts.first.flatMap({ pid_t($0) }), group > 1 else { continue }
                    if line.hasPrefix("+") { groups[group] = parts.count > 1 ? UInt64(parts[1]) ?? 0 : 0 }
                    if line.hasPrefix("-") { groups[group] = nil }
                }
                let all = groups.isEmpty ? [] : ProcessStat.all()
                for (group, start) in groups where group != getpgrp() {
                    let members = all.filter { $0.group == group && $0.state != "Z" }
                    guard !members.isEmpty else { continue }
                    if let leader = all.first(where: { $0.pid == group }), leader.startTime != start { continue }
                    if kill(-group, SIGKILL) == 0 { killed.append(group) }
                }
                unlink(path)
            }
        }
        return killed
    }

    private static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > 16 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
