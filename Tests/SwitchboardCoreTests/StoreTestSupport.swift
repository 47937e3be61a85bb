import Foundation
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardTesting

/// The stores every protocol test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case inMemory
    case sqlite
    /// A new database on the test process's private PostgreSQL cluster.
    case postgres

    var description: String { rawValue }

    /// Runs `body` with a fresh, empty store of this kind (in a temporary directory for SQLite,
    /// in a new database for PostgreSQL).
    func withStore(_ body: (any SessionStore) async throws -> Void) async throws {
        switch self {
        case .inMemory:
            try await body(InMemorySessionStore())
        case .sqlite:
            let dir = try TemporaryDirectory(prefix: "switchboard-store")
            defer { dir.remove() }
            try await body(SQLiteSessionStore(path: dir.path + "/sessions.sqlite"))
        case .postgres:
            let store = try await PostgresTestDatabase.open()
            do {
                try await body(store)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }
}

/// New databases on the shared private cluster.
enum PostgresTestDatabase {
    /// A store on a new, empty database.
    static func open(poolSize: Int = 4) async throws -> PostgresSessionStore {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL(parsing: try await cluster.createDatabase())
        return try await PostgresSessionStore.open(url, options: .init(poolSize: poolSize))
    }
}

/// Runs blocking work (waiting on a child process) on a thread of its own, so it does not
/// hold one of the few threads of Swift's cooperative pool while other tests run.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Why a test gave up on a child process.
struct ChildProcessFailure: Error, CustomStringConvertible {
    var description: String
}

/// A running `switchboard-store-stress write` child whose `committed <i>` lines are read
/// as they come, with deadlines (no sleeping).
final class StressWriter: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let errors: String
    private var buffer: [UInt8] = []
    private var reachedEnd = false
    /// The indexes the child reported committed so far.
    private(set) var committed: [Int] = []

    /// Starts `write --db database --prefix prefix --count count [--link]`.
    init(database: String, prefix: String, count: Int, link: Bool, scratch: TemporaryDirectory) throws {
        errors = scratch.path + "/stress-\(prefix).stderr"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuildProducts.executable("switchboard-store-stress"))
        process.arguments = ["write", "--db", database, "--prefix", prefix, "--count", String(count)] + (link ? ["--link"] : [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// What the child wrote on stderr so far.
    var stderr: String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }

    /// Reads output until at least `count` commits are reported, or fails at the deadline.
    func waitForCommits(atLeast count: Int, within timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while committed.count < count {
            if reachedEnd {
                throw ChildProcessFailure(description: "the writer ended after \(committed.count) of \(count) commits; stderr: \(stderr)")
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw ChildProcessFailure(description: "the writer reported \(committed.count) of \(count) commits within \(timeout); stderr: \(stderr)")
            }
            try readSome(waitingAtMost: left)
        }
    }

    /// Reads the rest of the output until the child's end of the pipe closes.
    func readToEnd(within timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while !reachedEnd {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ChildProcessFailure(description: "the writer's output did not end within \(timeout)") }
            try readSome(waitingAtMost: left)
        }
    }

    /// Kills the child with SIGKILL and reaps it; returns the signal that ended it, or
    /// `nil` when it had exited on its own.
    func killAndReap() -> Int32? {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
    }

    /// Waits for the child to exit on its own and returns its status.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    /// Waits (with poll, up to `limit`) for output and takes in whatever is there.
    private func readSome(waitingAtMost limit: Duration) throws {
        let fd = output.fileHandleForReading.fileDescriptor
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000 + 1)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 && errno != EINTR { throw ChildProcessFailure(description: "poll failed: errno \(errno)") }
        guard ready > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &chunk, chunk.count)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw ChildProcessFailure(description: "reading the writer's output failed: errno \(errno)")
        }
        if n == 0 {
            reachedEnd = true
            return
        }
        buffer.append(contentsOf: chunk[0..<n])
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            guard line.hasPrefix("committed "), let index = Int(line.dropFirst("committed ".count)) else {
                throw ChildProcessFailure(description: "unexpected output line '\(line)'")
            }
            committed.append(index)
        }
    }
}
