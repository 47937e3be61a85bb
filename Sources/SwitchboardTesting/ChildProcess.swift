import Foundation
import SwitchboardProcess
import Synchronization

/// Runs a command to completion and captures its output — for tests that drive the real
/// `switchboard` binary or a C compiler. (Agent processes use swift-subprocess instead.)
public struct ChildProcess: Sendable {
    /// What a finished command left behind.
    public struct Result: Sendable {
        /// The exit status (or the signal number, when it was killed by one).
        public var status: Int32
        /// Everything it wrote to standard output.
        public var stdout: String
        /// Everything it wrote to standard error.
        public var stderr: String

        /// A result with the given status and output.
        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs `executable` with `arguments`; output goes through temporary files, so a chatty
    /// command cannot block on a full pipe.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil
    ) throws -> Result {
        try run(executable, arguments, environment: environment, currentDirectory: currentDirectory, onStart: { _ in })
    }

    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]?,
        currentDirectory: String?,
        onStart: (Int32) -> Void
    ) throws -> Result {
        let scratch = try TemporaryDirectory(prefix: "switchboard-run")
        defer { scratch.remove() }
        let outPath = scratch.path + "/stdout"
        let errPath = scratch.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        running.withLock { _ = $0.insert(pid) }
        onStart(pid)
        process.waitUntilExit()
        running.withLock { _ = $0.remove(pid) }
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }

    /// Like ``run(_:_:environment:currentDirectory:)``, but waits for the command on a thread
    /// of its own, so a long command (a whole `swift build`) does not hold one of the few
    /// threads that run Swift concurrency tasks; and with a deadline.
    /// - Throws: ``TimedOut`` (after killing the command) when it runs longer than `timeout`.
    public static func launch(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        timeout: Duration
    ) async throws -> Result {
        let state = LaunchState()
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            guard let pid = state.pid.withLock({ $0 }) else { return }
            state.killed.withLock { $0 = true }
            kill(pid, SIGKILL)
        }
        defer { timer.cancel() }
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let thread = Thread {
                continuation.resume(with: Swift.Result {
                    try run(executable, arguments, environment: environment, currentDirectory: currentDirectory) { pid in
                        state.pid.withLock { $0 = pid }
                    }
                })
            }
            thread.start()
        }
        if state.killed.withLock({ $0 }) {
            throw TimedOut(command: ([executable] + arguments).joined(separator: " "), timeout: timeout, result: result)
        }
        return result
    }

    private final class LaunchState: Sendable {
        let pid = Mutex<Int32?>(nil)
        let killed = Mutex(false)
    }

    /// A command that ran longer than its deadline and was killed.
    public struct TimedOut: Error, CustomStringConvertible {
        /// The command line.
        public var command: String
        /// The deadline it missed.
        public var timeout: Duration
        /// What it had printed when it was killed.
        public var result: Result
        /// The command, the deadline, and what it had printed.
        public var description: String {
            "'\(command)' did not finish within \(timeout) and was killed. Its output:\n\(result.stdout)\(result.stderr)"
        }
    }

    /// The pids of the commands running through ``run(_:_:environment:currentDirectory:)``
    /// right now. The conformance suite does not count them (nor their children) as processes
    /// an adapter left behind.
    static let running = Mutex<Set<Int32>>([])

    /// Finds `name` on `PATH`.
    public static func which(_ name: String) -> String? {
        ProcessLaunch.lookUp(name, path: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }
}

/// A fresh directory under the system's temporary directory, removed on request.
public struct TemporaryDirectory: Sendable {
    /// Its absolute path.
    public let path: String

    public init(prefix: String = "switchboard") throws {
        let template = NSTemporaryDirectory() + "\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed for \(template)"])
        }
        path = String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `text` to a file inside the directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Builds plugins written in C against the Switchboard header, with the system compiler.
public enum CPluginCompiler {
    /// The directory holding `switchboard_abi.h`, found from this source file's location
    /// or `$SWITCHBOARD_ABI_INCLUDE`.
    public static var includeDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["SWITCHBOARD_ABI_INCLUDE"] { return dir }
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CSwitchboardABI/include").path
    }

    /// Compiles `source` into the shared object `output`.
    /// - Throws: ``CompileError`` with the compiler's output when it fails.
    public static func build(source: String, output: String, defines: [String] = []) throws {
        guard let cc = ChildProcess.which("cc") ?? ChildProcess.which("gcc") else {
            throw CompileError(output: "no C compiler ('cc' or 'gcc') on PATH")
        }
        let args = ["-std=c11", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-Wall", "-Werror",
                    "-I", includeDirectory] + defines.map { "-D\($0)" } + ["-o", output, source]
        let result = try ChildProcess.run(cc, args)
        guard result.status == 0 else { throw CompileError(output: result.stderr + result.stdout) }
    }

    /// A failed compile.
    public struct CompileError: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "C compile failed: \(output)" }
    }
}
