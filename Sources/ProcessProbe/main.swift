import SwitchboardAdapterAPI
import SwitchboardProcess

#if canImport(Glibc)
import Glibc
#endif

// Starts one agent process through `AgentProcess` — a shell that starts a second process in
// its group and prints both pids — prints `agent <pid> <pid>`, and then waits to be killed.
// The process owner's tests kill this probe with SIGKILL and check that both are gone.
let reported = OneShot<String>()
let script = "sleep 600 & echo \"$$ $!\"; wait"
let process = try await AgentProcess.start(
    ProcessLaunch(program: "/bin/sh", arguments: ["-c", script], role: "probe shell"),
    onLine: { line in if let text = line.string { reported.set(text) } }
)
guard let pids = await reported.wait(within: .seconds(30)) else {
    print("no pids")
    exit(1)
}
print("agent \(pids)")
fflush(nil)
while true { try await Task.sleep(for: .seconds(3600)) }
