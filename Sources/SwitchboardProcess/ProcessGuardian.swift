import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Makes sure no process group an ``AgentProcess`` started outlives this process, even when
/// this process is killed with SIGKILL and has no chance to clean up.
///
/// Linux offers `PR_SET_PDEATHSIG`, but it must be set in the child between `fork` and
/// `exec` (swift-subprocess has no hook for that on Linux), it fires when the *thread* that
/// spawned the child exits (Swift's pool threads come and go), and it reaches only the
/// direct child, not what that child started. The guardian does better: a tiny `/bin/sh`
/// helper in a process group of its own, which ignores the usual termination signals and
/// reads the ids of the groups to guard from a pipe (`+<pgid>` when a process starts,
/// `-<pgid>` once it was reaped). Only this process holds the pipe's write end (it is
/// close-on-exec), so when this process dies — however it dies — the helper reads end of
/// file and sends SIGKILL to every group still listed, then exits.
///
/// One guardian serves every process a plugin image starts; it is started with the first.
/// Its command line ends with ``marker``, which is how tests tell it apart from agents.
public enum ProcessGuardian {
    /// The last argument of the guardian's command line (its `$0`).
    public static let marker = "switchboard-guardian"

    private static let script = """
        cd / || exit 1
        trap '' INT TERM HUP QUIT
        groups=' '
        while IFS= read -r line; do
          case $line in
            +*) groups="$groups${line#+} " ;;
            -*) g=${line#-}
                case $groups in *" $g "*) groups="${groups%% $g *} ${groups#* $g }" ;; esac ;;
          esac
        done
        for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
        """

    private struct State {
        var pid: pid_t = 0
        var writeEnd: Int32 = -1
        var groups: Set<pid_t> = []
    }

    private static let state = Mutex(State())

    /// The guardian's process id, once it runs.
    public static var pid: pid_t? {
        state.withLock { $0.pid > 0 ? $0.pid : nil }
    }

    /// Guards process group `group` until ``release(_:)``. Starts the guardian if needed;
    /// returns false if it could not be started (the group is then only stopped by the
    /// normal shutdown path).
    @discardableResult
    public static func guardGroup(_ group: pid_t) -> Bool {
        guard group > 0 else { return false }
        ProcessRecords.added(group)
        return state.withLock { s in
            s.groups.insert(group)
            return send("+\(group)\n", in: &s)
        }
    }

    /// Stops guarding `group`: its leader was reaped, so the id may be reused.
    public static func release(_ group: pid_t) {
        guard group > 0 else { return }
        ProcessRecords.removed(group)
        state.withLock { s in
            guard s.groups.remove(group) != nil else { return }
            _ = send("-\(group)\n", in: &s)
        }
    }

    /// Writes `line` to the guardian, starting (or restarting) it first when needed.
    private static func send(_ line: String, in s: inout State) -> Bool {
        if s.writeEnd >= 0, writeAll(line, to: s.writeEnd) { return true }
        // Not running yet, or it died (EPIPE): start a new one and tell it everything.
        stop(&s)
        guard start(&s) else { return false }
        let all = s.groups.sorted().map { "+\($0)\n" }.joined()
        return writeAll(all, to: s.writeEnd)
    }

    private static func writeAll(_ text: String, to fd: Int32) -> Bool {
        guard !text.isEmpty else { return true }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    private static func stop(_ s: inout State) {
        if s.writeEnd >= 0 { close(s.writeEnd) }
        s.writeEnd = -1
        if s.pid > 0 {
            var status: Int32 = 0
            _ = waitpid(s.pid, &status, WNOHANG)  // reap a guardian that died, if it did
        }
        s.pid = 0
    }

    private static func start(_ s: inout State) -> Bool {
        ignoreSIGPIPE()
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return false }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // Only this process may hold the write end: children must not inherit it, or the
        // guardian would not see end of file when this process dies.
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        // Nothing else of this process (CleanSpawn): a pipe another thread is using at the
        // same moment (a child's stdout) must not stay open in the guardian, or its reader
        // never sees end of file.
        let child: pid_t
        do {
            child = try CleanSpawn.spawn(
                "/bin/sh", argv: ["/bin/sh", "-c", script, marker], environment: ["PATH=/usr/bin:/bin"],
                descriptors: [0: .descriptor(readEnd), 1: .null, 2: .null], ownProcessGroup: true
            )
        } catch {
            close(readEnd)
            close(writeEnd)
            return false
        }
        close(readEnd)
        s.pid = child
        s.writeEnd = writeEnd
        return true
    }
}

/// Writing to a pipe whose reader died raises SIGPIPE, which would kill the host. Ignore it
/// (the write then fails with EPIPE) unless the host installed a handler of its own;
/// children get default signal handling back when they are spawned.
func ignoreSIGPIPE() {
    _ = sigpipeIgnored
}

private let sigpipeIgnored: Void = {
    var current = sigaction()
    if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
        signal(SIGPIPE, SIG_IGN)
    }
}()
