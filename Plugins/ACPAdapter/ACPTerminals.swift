import SwitchboardAdapterAPI
import SwitchboardProcess
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The commands an agent runs through the client (`terminal/*`): each one a child process in
/// a process group of its own (``AgentProcess``), its output kept up to the agent's byte
/// limit.
///
/// - `terminal/create` starts the command in its `cwd` (default: the session's project
///   directory; a relative one is resolved against it; it must lie inside it), with the
///   agent's environment plus the request's `env`. stderr goes to the same output as stdout.
///   A `command` with no `args` that is not a plain program name (one agent sends a whole
///   shell line) runs through `/bin/sh -c`.
/// - The output keeps the last `outputByteLimit` bytes (default 1 MiB, at most 16 MiB), cut at
///   a character boundary, and says when it was truncated.
/// - `terminal/kill` stops the command's process group; `terminal/release` also forgets it.
/// - ``closeAll()`` kills every command and waits until each was reaped: at the end of the
///   agent's process and at dispose, nothing a terminal started is left.
final class ACPTerminals: Sendable {
    /// A command's output as it arrives: the last `limit` bytes.
    final class Output: Sendable {
        let limit: Int
        private let kept = Mutex<(bytes: [UInt8], truncated: Bool)>(([], false))

        init(limit: Int) { self.limit = limit }

        func append(_ line: ProcessLine) {
            kept.withLock { Terminal.append(line, to: &$0, limit: limit) }
        }

        var snapshot: (text: String, truncated: Bool) {
            kept.withLock { (String(decoding: $0.bytes, as: UTF8.self), $0.truncated) }
        }
    }

    /// One command and its output.
    final class Terminal: Sendable {
        let id: String
        let commandLine: String
        let process: AgentProcess
        private let output: Output

        init(id: String, commandLine: String, process: AgentProcess, output: Output) {
            self.id = id
            self.commandLine = commandLine
            self.process = process
            self.output = output
        }

        /// The output so far, and whether its beginning was cut.
        var snapshot: (text: String, truncated: Bool) { output.snapshot }

        /// Appends a line of output, keeping the last `limit` bytes at a character boundary.
        static func append(_ line: ProcessLine, to output: inout (bytes: [UInt8], truncated: Bool), limit: Int) {
            switch line {
            case .text(let bytes): output.bytes.append(contentsOf: bytes)
            case .tooLong(let bytes, _): output.bytes.append(contentsOf: Array("(a line of \(bytes) bytes, left out)".utf8))
            }
            output.bytes.append(0x0A)
            guard output.bytes.count > limit else { return }
            var cut = output.bytes.count - limit
            // Never start inside a UTF-8 sequence: skip continuation bytes (10xxxxxx).
            while cut < output.bytes.count, output.bytes[cut] & 0xC0 == 0x80 { cut += 1 }
            output.bytes.removeFirst(cut)
            output.truncated = true
        }
    }

    /// What a finished command reports: `exitCode` or `signal`.
    static func exitStatus(_ exit: ProcessExit) -> JSONValue {
        switch exit.status {
        case .exited(let code): .object(["exitCode": .int(Int(code)), "signal": .null])
        case .signaled(let signal): .object(["exitCode": .null, "signal": .string(ProcessExit.signalName(signal) ?? "SIG\(signal)")])
        }
    }

    /// The default output limit, and the most an agent may ask for.
    static let defaultOutputLimit = 1 << 20
    static let maximumOutputLimit = 16 << 20
    /// How many terminals one agent process may hold at once.
    static let maximumTerminals = 64

    private struct State {
        var terminals: [String: Terminal] = [:]
        var next = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let files: ACPFileAccess
    private let environment: [String: String]
    private let stopGrace: Duration

    /// Terminals whose commands run confined to `files`' project, with `environment`.
    init(files: ACPFileAccess, environment: [String: String], stopGrace: Duration) {
        self.files = files
        self.environment = environment
        self.stopGrace = stopGrace
    }

    /// The launch for a `terminal/create` request, and the command line for people.
    func launch(_ params: JSONValue) throws(ACPClientError) -> (ProcessLaunch, String) {
        guard let command = params["command"]?.stringValue, !command.isEmpty else {
            throw .refused("terminal/create needs a command.")
        }
        let args = (params["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        let directory = try files.resolve(params["cwd"]?.stringValue ?? files.root)
        guard ACPFileAccess.isDirectory(directory) else {
            throw .refused("The working directory '\(params["cwd"]?.stringValue ?? files.root)' is not a directory.")
        }
        var env = environment
        for entry in params["env"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, !name.isEmpty, !name.contains("="), !name.utf8.contains(0),
                  let value = entry["value"]?.stringValue, !value.utf8.contains(0)
            else { throw .refused("terminal/create has an environment variable that is not a name and a value: \(entry.jsonText)") }
            env[name] = value
        }
        // stderr joins stdout; a shell line without arguments runs through the shell.
        let shellLine = args.isEmpty && command.contains { " \t;&|<>$`'\"()*?~\n".contains($0) }
        let arguments = shellLine ? ["-c", "exec 2>&1; " + command] : ["-c", "exec 2>&1; exec \"$0\" \"$@\"", command] + args
        let display = ([command] + args).joined(separator: " ")
        return (ProcessLaunch(program: "/bin/sh", arguments: arguments, environment: env, workingDirectory: directory,
                              role: "command"), display)
    }

    /// `terminal/create`: starts the command and returns its terminal.
    func create(_ params: JSONValue) async throws(ACPClientError) -> Terminal {
        let (launch, display) = try self.launch(params)
        let requested = params["outputByteLimit"]?.intValue ?? Self.defaultOutputLimit
        let limit = min(max(requested, 0), Self.maximumOutputLimit)
        let id = try state.withLock { s throws(ACPClientError) -> String in
            guard !s.closed else { throw .failed("The session is ending; no command can start.") }
            guard s.terminals.count < Self.maximumTerminals else {
                throw .refused("The agent already has \(Self.maximumTerminals) terminals; release some first.")
            }
            s.next += 1
            return "term-\(s.next)"
        }
        let output = Output(limit: limit)
        var options = AgentProcess.Options()
        options.maxLineBytes = 1 << 20
        options.exitGrace = stopGrace
        let process: AgentProcess
        do {
            process = try await AgentProcess.start(launch, options: options, onLine: { line in output.append(line) })
        } catch {
            throw .failed("Could not start '\(display)': \(error.message)")
        }
        let terminal = Terminal(id: id, commandLine: display, process: process, output: output)
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.terminals[id] = terminal
            return true
        }
        if !accepted {
            process.signalGroup(SIGKILL)
            await process.waitForExit()
            throw .failed("The session is ending; no command can start.")
        }
        return terminal
    }

    /// The terminal `params.terminalId` names.
    func terminal(_ params: JSONValue) throws(ACPClientError) -> Terminal {
        let id = params["terminalId"]?.stringValue ?? ""
        guard let terminal = state.withLock({ $0.terminals[id] }) else {
            throw .refused("There is no terminal '\(id)' (it was released, or never created).")
        }
        return terminal
    }

    /// A terminal by id, if it is still held.
    func terminal(id: String) -> Terminal? { state.withLock { $0.terminals[id] } }

    /// `terminal/output`.
    func output(_ terminal: Terminal) -> JSONValue {
        let (text, truncated) = terminal.snapshot
        var result: [String: JSONValue] = ["output": .string(text), "truncated": .bool(truncated)]
        if let exit = terminal.process.exitStatus { result["exitStatus"] = Self.exitStatus(exit) }
        return .object(result)
    }

    /// `terminal/kill`: stops the command's process group and waits until it was reaped.
    func kill(_ terminal: Terminal) async {
        guard terminal.process.exitStatus == nil else { return }
        terminal.process.signalGroup(SIGTERM)
        if await terminal.process.waitForExit(within: stopGrace) == nil {
            terminal.process.signalGroup(SIGKILL)
        }
        await terminal.process.waitForExit()
    }

    /// `terminal/release`: kills the command if it still runs, and forgets the terminal.
    func release(_ terminal: Terminal) async {
        await kill(terminal)
        state.withLock { _ = $0.terminals.removeValue(forKey: terminal.id) }
    }

    /// How many terminals are held.
    var count: Int { state.withLock { $0.terminals.count } }

    /// Kills every command, waits until each was reaped, and refuses new ones.
    func closeAll() async {
        let all = state.withLock { s -> [Terminal] in
            s.closed = true
            defer { s.terminals = [:] }
            return Array(s.terminals.values)
        }
        for terminal in all { terminal.process.signalGroup(SIGKILL) }
        for terminal in all { await terminal.process.waitForExit() }
    }
}
