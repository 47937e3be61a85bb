import SwitchboardAdapterAPI
import SwitchboardProcess
import SwitchboardTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The process owner against real processes (`/bin/sh` scripts).
@Suite("Agent process", .childProcessGate)
struct AgentProcessTests {
    static func shell(_ script: String) -> ProcessLaunch {
        ProcessLaunch(program: "/bin/sh", arguments: ["-c", script], role: "test shell")
    }

    /// Waits until `pid` is gone or a zombie; false when it still runs after `limit`.
    static func waitUntilEnded(_ pid: pid_t, within limit: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if ProcessStat.hasEnded(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return ProcessStat.hasEnded(pid)
    }

    @Test("Stdout arrives as lines; stdin is written; the exit is typed; the stderr tail is kept")
    func linesInputExit() async throws {
        let lines = Recorder<String>()
        var options = AgentProcess.Options()
        options.stderrTailLines = 2
        let process = try await AgentProcess.start(
            Self.shell("echo one; read reply; echo \"got $reply\"; echo e1 >&2; echo e2 >&2; echo e3 >&2; exit 3"),
            options: options, onLine: { lines.append($0.string ?? "?") }
        )
        _ = try await lines.wait(within: .seconds(10)) { $0 == ["one"] }
        process.writeLine("hello")
        let exit = await process.waitForExit()
        #expect(lines.items == ["one", "got hello"])
        #expect(exit.status == .exited(3))
        #expect(exit.stderrTail == ["e2", "e3"])
        #expect(exit.description == "exited with code 3")
        #expect(!exit.isSuccess)
    }

    @Test("A line over the limit is reported and the process goes on")
    func longLine() async throws {
        let lines = Recorder<String>()
        var options = AgentProcess.Options()
        options.maxLineBytes = 100
        let process = try await AgentProcess.start(
            Self.shell("head -c 5000 /dev/zero | tr '\\0' x; echo; echo after"),
            options: options,
            onLine: { line in
                switch line {
                case .text(let bytes): lines.append(String(decoding: bytes, as: UTF8.self))
                case .tooLong(let bytes, let limit): lines.append("dropped \(bytes) > \(limit)")
                }
            }
        )
        let exit = await process.waitForExit()
        #expect(exit.isSuccess)
        #expect(lines.items == ["dropped 5000 > 100", "after"])
    }

    @Test("Stop escalates: stdin closed, then SIGTERM, then SIGKILL to the whole group")
    func escalation() async throws {
        let lines = Recorder<String>()
        // Ignores stdin's end and SIGTERM; a second process in its group ignores them too.
        let process = try await AgentProcess.start(
            Self.shell("trap '' TERM; (trap '' TERM; sleep 600) & echo \"$!\"; while :; do sleep 1; done"),
            onLine: { lines.append($0.string ?? "?") }
        )
        let child = try #require(pid_t(try await lines.wait(within: .seconds(10)) { !$0.isEmpty }[0]))
        let group = process.pid
        #expect(ProcessStat.read(child)?.group == group)
        let exit = await process.stop(.grace(.milliseconds(300)))
        #expect(exit.status == .signaled(SIGKILL))
        #expect(exit.description == "was killed by signal 9 (SIGKILL)")
        #expect(await Self.waitUntilEnded(child), "the group member was killed too")
        #expect(ProcessInspection.members(ofGroup: group).filter { !$0.isZombie }.isEmpty)
    }

    @Test("A process that ends on its own when stdin closes needs no signal")
    func gracefulStop() async throws {
        let process = try await AgentProcess.start(Self.shell("cat >/dev/null; exit 0"))
        let exit = await process.stop(.grace(.seconds(10)))
        #expect(exit.status == .exited(0))
    }

    @Test("When stdout closes, what the process left in its group is killed and it is reaped")
    func leftoversKilled() async throws {
        let lines = Recorder<String>()
        let process = try await AgentProcess.start(
            Self.shell("sleep 600 & echo \"$!\"; exec >&-; exit 0"),
            onLine: { lines.append($0.string ?? "?") }
        )
        let child = try #require(pid_t(try await lines.wait(within: .seconds(10)) { !$0.isEmpty }[0]))
        _ = await process.waitForExit()
        #expect(await Self.waitUntilEnded(child))
        #expect(ProcessStat.read(process.pid) == nil, "reaped")
    }

    @Test("withProcess stops and reaps the process before it returns, also when the body throws")
    func scoped() async throws {
        struct Failure: Error {}
        var pid: pid_t = 0
        await #expect(throws: Failure.self) {
            try await AgentProcess.withProcess(Self.shell("sleep 600"), stop: .grace(.milliseconds(200))) { process in
                pid = process.pid
                throw Failure()
            }
        }
        #expect(pid > 0)
        #expect(ProcessStat.read(pid) == nil, "stopped and reaped")
    }

    @Test("A missing program is an agentFailure naming it and its settings key")
    func missingProgram() async throws {
        let launch = ProcessLaunch(program: "no-such-agent-binary", environment: ["PATH": "/nonexistent"],
                                   role: "agent binary", settingKey: "settings.binary")
        await #expect(throws: AdapterError(.agentFailure, "The agent binary 'no-such-agent-binary' was not found on PATH (/nonexistent); set settings.binary in the config to its full path.")) {
            _ = try await AgentProcess.start(launch)
        }
    }

    @Test("When the host is killed with SIGKILL, the agent process and its group die too")
    func hostKilled() async throws {
        let probe = try await SpawnedProcess.start(BuildProducts.executable("switchboard-process-probe"), [])
        defer { probe.terminate() }
        let line = try await probe.waitForLine(containing: "agent ", within: .seconds(30))
        let pids = line.split(separator: " ").dropFirst().compactMap { pid_t($0) }
        try #require(pids.count == 2, "\(line)")
        for pid in pids { #expect(!ProcessStat.hasEnded(pid), "the agent runs while the host does") }
        probe.signal(SIGKILL)
        _ = try await probe.waitForExit(within: .seconds(10))
        for pid in pids {
            #expect(await Self.waitUntilEnded(pid), "process \(pid) outlived its host")
        }
    }
}
