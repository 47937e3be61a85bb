import Foundation
import Synchronization
import SwitchboardProcess

/// Runs the PostgreSQL programs of a ``PostgresCluster`` through ``CleanSpawn``: no descriptor
/// of this process but the standard ones reaches them, and signals are at their defaults.
///
/// `pg_ctl start` leaves the server running in the background. Started through Foundation's
/// `Process`, the server would inherit that `Process`'s own descriptors (and whatever pipe
/// another thread was using at that moment), so the command would never be seen to end and
/// readers of those pipes would never see end of file.
enum ClusterCommand {
    /// A finished command: its exit status (or 128 + the signal) and what it printed.
    struct Result {
        var status: Int32
        var output: String
    }

    /// Starts `arguments` (the program first, an absolute path) in `directory` with standard
    /// input from `input` (a descriptor, or `/dev/null` when `nil`) and standard output and
    /// error to `outputPath`.
    static func spawn(_ arguments: [String], in directory: String, input: Int32? = nil, outputPath: String) throws -> pid_t {
        // The shell changes to the directory, then becomes the program.
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        do {
            return try CleanSpawn.spawn(
                "/bin/sh", argv: argv,
                descriptors: [0: input.map { .descriptor($0) } ?? .null, 1: .file(outputPath), 2: .sameAs(1)],
                ownProcessGroup: false
            )
        } catch {
            throw PostgresCluster.Failure(description: "could not start \(arguments.joined(separator: " ")): posix_spawn failed with \(error)")
        }
    }

    /// Runs `arguments` to its end, waiting on a thread of its own; kills it when it runs
    /// longer than `timeout`.
    static func run(_ arguments: [String], in directory: String, outputPath: String, timeout: Duration) async throws -> Result {
        let pid = try spawn(arguments, in: directory, outputPath: outputPath)
        ChildProcess.running.withLock { _ = $0.insert(pid) }
        defer { ChildProcess.running.withLock { _ = $0.remove(pid) } }
        let finished = Flag()
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            if !finished.value.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        defer { timer.cancel() }
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                finished.value.withLock { $0 = true }
                // Exited: the status in bits 8–15; killed: 128 + the signal.
                continuation.resume(returning: raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
            }.start()
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: status, output: output)
    }
}

/// Whether a command has ended, shared by its waiting thread and its deadline.
private final class Flag: Sendable {
    let value = Mutex(false)
}
