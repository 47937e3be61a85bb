#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a child process ended: its status, and the last lines it wrote to stderr.
public struct ProcessExit: Sendable, Hashable, CustomStringConvertible {
    /// The exit code, or the signal that ended it.
    public enum Status: Sendable, Hashable {
        /// It exited with this code.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
    }

    /// How it ended.
    public var status: Status
    /// The last lines it wrote to stderr, oldest first (blank lines left out).
    public var stderrTail: [String]

    /// An exit with the given status and stderr tail.
    public init(status: Status, stderrTail: [String] = []) {
        self.status = status
        self.stderrTail = stderrTail
    }

    /// Whether it exited with code 0.
    public var isSuccess: Bool { status == .exited(0) }

    /// `exited with code 1`, `was killed by signal 9 (SIGKILL)`.
    public var description: String {
        switch status {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "was killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    /// The conventional name of a signal number (`SIGTERM`), for the common ones.
    public static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGPIPE: "SIGPIPE"
        case SIGHUP: "SIGHUP"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGQUIT: "SIGQUIT"
        default: nil
        }
    }

    /// The description followed by the stderr tail, for an error message:
    /// `exited with code 1: <last stderr lines>` or `exited with code 1.`
    public var descriptionWithStderr: String {
        stderrTail.isEmpty ? "\(description)." : "\(description): \(stderrTail.joined(separator: "\n"))"
    }
}
