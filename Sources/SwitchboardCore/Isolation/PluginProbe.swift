import SwitchboardAdapterAPI
import SwitchboardProcess

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ErrorCode where Domain == PluginLoadErrorDomain {
    /// The helper that loads a plugin first crashed, hung or could not run: the file's
    /// constructor or entry function is broken, and it never reached the daemon.
    public static var probeFailed: Self { Self("probeFailed") }
}

/// Loads a plugin file in a throwaway `switchboard-plugin-host --probe` process and reads
/// its descriptor from there, so an ELF constructor or entry function that crashes, exits
/// or blocks costs that process only: the daemon logs the refusal and carries on.
public enum PluginProbe {
    /// How long a probe may take.
    public static let defaultTimeout: Duration = .seconds(10)

    /// The plugin at `path` as the helper saw it (its descriptor is not in this process).
    /// - Throws: the loader's own error when the file is refused, or `probeFailed`.
    public static func probe(_ path: String, executable: String = PluginIsolation.defaultExecutable,
                             within limit: Duration = defaultTimeout) throws(PluginLoadError) -> LoadedPlugin {
        func fail(_ reason: String) -> PluginLoadError {
            PluginLoadError(.probeFailed, "Plugin '\(path)' \(reason)")
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw fail("could not be probed: pipe failed (errno \(errno)).") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        let child: pid_t
        do {
            child = try CleanSpawn.spawn(executable, argv: ["switchboard-plugin-host", "--probe", path],
                                         descriptors: [0: .null, 1: .descriptor(writeEnd)], ownProcessGroup: true)
        } catch {
            close(writeEnd)
            close(readEnd)
            throw fail("could not be probed: the helper '\(executable)' could not be started (\(error)).")
        }
        close(writeEnd)
        defer { close(readEnd) }
        // Read its one line, within the deadline.
        let deadline = ContinuousClock.now + limit
        var output: [UInt8] = []
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while output.count < 1 << 20 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                timedOut = true
                break
            }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            let ready = poll(&poller, 1, ms)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = read(readEnd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: buffer[0..<n])
        }
        if timedOut { _ = kill(-child, SIGKILL) }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            throw fail("did not finish loading within \(PluginHostContext.seconds(limit)) s in its probe (its constructor or entry function blocks); it was not loaded.")
        }
        let text = String(decoding: output, as: UTF8.self)
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        if let value = try? JSONValue(parsing: line) {
            if let descriptor = HelperDescriptor(value) {
                return LoadedPlugin(path: path, probed: descriptor)
            }
            if let message = value["error"]?.stringValue {
                throw PluginLoadError(PluginLoadError.Code(value["code"]?.stringValue ?? "probeFailed"), message)
            }
        }
        throw fail("\(PluginHelperProcess.describe(status)) while it was being loaded in its probe; it was not loaded.")
    }
}
