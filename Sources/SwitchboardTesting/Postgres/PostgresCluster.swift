import Foundation
import Synchronization

/// A private PostgreSQL server for tests and benchmarks: `initdb` into a temporary
/// directory, a free loopback port, no system service.
///
/// As root (which `initdb` and `pg_ctl` refuse), the server runs as the `postgres` user when
/// there is one, else as `nobody`, through `runuser`. A guard process stops the server and
/// removes its directory when this process ends, however it ends (its standard input is a
/// pipe only this process holds), so no server outlives the tests.
///
/// ```swift
/// let cluster = try await PostgresCluster.shared()
/// let url = try await cluster.createDatabase()   // postgres://postgres@127.0.0.1:<port>/<new database>
/// ```
public final class PostgresCluster: Sendable {
    /// The server's address.
    public let host = "127.0.0.1"
    /// The server's port.
    public let port: Int
    /// The superuser (trusted on loopback, no password).
    public let user = "postgres"
    /// The cluster's directory: the data directory, the socket and the server's log.
    public let directory: String
    let binaries: String
    let runAs: String?
    /// Whether commits are synced to disk.
    public let fsync: Bool
    private let guardInput: FileHandle
    private let databases = Mutex(0)

    /// Why a cluster could not be started or used.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, with the command's output.
        public var description: String
    }

    /// The directory holding `initdb`, `pg_ctl` and `createdb`, or `nil` when PostgreSQL is
    /// not installed: `$SWITCHBOARD_POSTGRES_BIN`, the newest `/usr/lib/postgresql/<n>/bin`,
    /// or the directory of `initdb` on `PATH`.
    public static func binaryDirectory() -> String? {
        let fm = FileManager.default
        func usable(_ dir: String) -> Bool {
            ["initdb", "pg_ctl", "createdb"].allSatisfy { fm.isExecutableFile(atPath: dir + "/" + $0) }
        }
        if let dir = ProcessInfo.processInfo.environment["SWITCHBOARD_POSTGRES_BIN"], usable(dir) { return dir }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where usable("/usr/lib/postgresql/\(version)/bin") { return "/usr/lib/postgresql/\(version)/bin" }
        if let initdb = ChildProcess.which("initdb") {
            let resolved = URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
            if usable(resolved) { return resolved }
        }
        return nil
    }

    /// Whether a cluster can be started here.
    public static var isAvailable: Bool { binaryDirectory() != nil }

    private static let sharedCluster = SharedCluster()

    /// One cluster for the whole process, started on first use.
    public static func shared() async throws -> PostgresCluster {
        try await sharedCluster.get()
    }

    /// Starts a new cluster and waits (up to `timeout`) until it accepts connections. With
    /// `fsync` false (for tests) commits are not synced to disk; benchmarks turn it on.
    public static func start(fsync: Bool = false, timeout: Duration = .seconds(90)) async throws -> PostgresCluster {
        guard let binaries = binaryDirectory() else {
            throw Failure(description: "PostgreSQL is not installed (no initdb, pg_ctl and createdb in /usr/lib/postgresql/<version>/bin or on PATH); .ci/setup installs it")
        }
        let deadline = ContinuousClock.now + timeout
        let scratch = try TemporaryDirectory(prefix: "switchboard-pg")
        let runAs: String? = getuid() == 0 ? (getpwnam("postgres") != nil ? "postgres" : "nobody") : nil
        if let runAs, let account = getpwnam(runAs) {
            guard chown(scratch.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                scratch.remove()
                throw Failure(description: "cannot give '\(scratch.path)' to user \(runAs): errno \(errno)")
            }
        }
        let port = try freePort()
        // The guard: waits for end of file on its standard input (this process's end), then
        // stops the server (SIGINT is PostgreSQL's fast shutdown) and removes the directory.
        let guardScript = """
            read -r _
            pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
            if [ -n "$pid" ]; then
              kill -INT "$pid" 2>/dev/null
              i=0
              while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
              kill -KILL "$pid" 2>/dev/null
            fi
            rm -rf "$1"
            """
        let guardInput = try startGuard(script: guardScript, directory: scratch.path)
        let cluster = PostgresCluster(port: port, directory: scratch.path, binaries: binaries, runAs: runAs, fsync: fsync,
                                      guardInput: guardInput)
        let initdb = try await cluster.run("initdb", [
            "-D", cluster.dataDirectory, "-U", cluster.user, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        ], until: deadline)
        guard initdb.status == 0 else { throw Failure(description: "initdb failed (status \(initdb.status)): \(initdb.stdout)\(initdb.stderr)") }
        try await cluster.startServer(until: deadline)
        return cluster
    }

    private init(port: Int, directory: String, binaries: String, runAs: String?, fsync: Bool, guardInput: FileHandle) {
        self.port = port
        self.fsync = fsync
        self.directory = directory
        self.binaries = binaries
        self.runAs = runAs
        self.guardInput = guardInput
    }

    /// The data directory.
    public var dataDirectory: String { directory + "/data" }

    /// The URL of `database` on this server.
    public func url(database: String) -> String {
        "postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// Creates a new, empty database and returns its URL.
    public func createDatabase(named name: String? = nil) async throws -> String {
        let name = name ?? "test_\(databases.withLock { $0 += 1; return $0 })_\(UInt32.random(in: 0...UInt32.max))"
        let result = try await ChildProcess.launch(binaries + "/createdb", ["-h", host, "-p", String(port), "-U", user, name], timeout: .seconds(60))
        guard result.status == 0 else { throw Failure(description: "createdb \(name) failed (status \(result.status)): \(result.stderr)") }
        return url(database: name)
    }

    /// Stops the server (`pg_ctl stop -m fast`), waiting up to `timeout`. The cluster's files
    /// stay, so ``startServer(timeout:)`` can start it again on the same port.
    public func stopServer(timeout: Duration = .seconds(60)) async throws {
        let result = try await run("pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", String(Int(timeout.components.seconds))],
                                   until: .now + timeout + .seconds(5))
        guard result.status == 0 else { throw Failure(description: "pg_ctl stop failed (status \(result.status)): \(result.stdout)\(result.stderr)") }
    }

    /// Starts the server again after ``stopServer(timeout:)``, waiting until it accepts connections.
    public func startServer(timeout: Duration = .seconds(60)) async throws {
        try await startServer(until: .now + timeout)
    }

    private func startServer(until deadline: ContinuousClock.Instant) async throws {
        let seconds = max(1, Int((deadline - .now).components.seconds))
        let options = "-k \(directory) -p \(port) -c listen_addresses=\(host) -c fsync=\(fsync ? "on" : "off") -c synchronous_commit=on -c max_connections=200"
        let result = try await run("pg_ctl", ["start", "-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", String(seconds), "-o", options],
                                   until: deadline + .seconds(5))
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw Failure(description: "pg_ctl start failed (status \(result.status)): \(result.stdout)\(result.stderr)\nserver log:\n\(log.suffix(2000))")
        }
    }

    /// Stops the server now and removes its directory (what the guard does when the process
    /// ends, done at once).
    public func shutDown() {
        try? guardInput.close()
    }

    /// Runs one of the PostgreSQL programs, as the cluster's user.
    private func run(_ program: String, _ arguments: [String], until deadline: ContinuousClock.Instant) async throws -> ChildProcess.Result {
        let timeout = max(deadline - .now, .seconds(1))
        var command = [binaries + "/" + program] + arguments
        if let runAs {
            let runuser = ChildProcess.which("runuser") ?? "/usr/sbin/runuser"
            command = [runuser, "-u", runAs, "--"] + command
        }
        let result = try await ClusterCommand.run(command, in: directory, outputPath: directory + "/\(program).out", timeout: timeout)
        return ChildProcess.Result(status: result.status, stdout: result.output, stderr: "")
    }

    /// Starts the guard: `/bin/sh` running `script` in the background of a shell that exits at
    /// once, so the guard is no child of this process (the conformance suite counts those),
    /// with the read end of a pipe as its input. Returns the write end, which only this
    /// process holds (close-on-exec, so no other child inherits it).
    private static func startGuard(script: String, directory: String) throws -> FileHandle {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Failure(description: "pipe() failed: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // A background job's input is /dev/null unless redirected, so the pipe goes by fd 3.
        let command = "exec 3<&0\n{ \(script)\n} <&3 3<&- &"
        let pid: pid_t
        do {
            pid = try ClusterCommand.spawn(["/bin/sh", "-c", command, "switchboard-pg-guard", directory], in: "/", input: ends[0],
                                           outputPath: "/dev/null")
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[0])
        // The shell only starts the guard and exits.
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
    }

    /// A loopback port nothing listens on now: bound to port 0 and closed again.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw Failure(description: "bind() failed: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw Failure(description: "getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Starts the process's shared cluster once, for every caller.
private actor SharedCluster {
    private var task: Task<PostgresCluster, any Error>?

    func get() async throws -> PostgresCluster {
        if let task { return try await task.value }
        let task = Task { try await PostgresCluster.start() }
        self.task = task
        return try await task.value
    }
}
