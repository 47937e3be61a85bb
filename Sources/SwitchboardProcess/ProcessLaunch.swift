import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything needed to start one child process: what to run, with which arguments,
/// environment and working directory — a value, so a plugin can build and test its command
/// line without starting anything.
public struct ProcessLaunch: Sendable, Hashable {
    /// The program: a path, or a bare name still to be looked up on the `PATH` of
    /// ``environment``.
    public var program: String
    /// The arguments after the program name.
    public var arguments: [String]
    /// The complete environment of the process (nothing is inherited besides this).
    public var environment: [String: String]
    /// The working directory; `nil` keeps the host's.
    public var workingDirectory: String?
    /// What ``program`` is, for error messages, e.g. `claude binary`.
    public var role: String
    /// The settings key that names ``program``, for error messages, e.g. `settings.binary`.
    public var settingKey: String?

    /// A launch of `program` with `arguments`.
    public init(
        program: String,
        arguments: [String] = [],
        environment: [String: String] = ProcessLaunch.currentEnvironment(),
        workingDirectory: String? = nil,
        role: String? = nil,
        settingKey: String? = nil
    ) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.role = role ?? "program"
        self.settingKey = settingKey
    }

    /// The program as an absolute path: itself when it contains a `/`, else the first
    /// executable file of that name on the launch environment's `PATH`.
    /// - Throws: ``AdapterError`` (`agentFailure`) naming the program, where it was looked
    ///   for, and the settings key to change.
    public func resolvedProgram() throws(AdapterError) -> String {
        let setBy = settingKey.map { " (set by \($0) in the config)" } ?? ""
        if program.contains("/") {
            guard Self.isExecutableFile(program) else {
                let reason = Self.fileExists(program) ? "is not an executable file" : "does not exist"
                throw AdapterError(.agentFailure, "The \(role) '\(program)' \(reason)\(setBy).")
            }
            return program
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        if let found = Self.lookUp(program, path: path) { return found }
        let advice = settingKey.map { "; set \($0) in the config to its full path" } ?? ""
        throw AdapterError(.agentFailure, "The \(role) '\(program)' was not found on PATH (\(path))\(advice).")
    }

    /// The working directory, checked: it must be an existing directory.
    /// - Throws: ``AdapterError`` (`agentFailure`) naming the directory.
    public func checkWorkingDirectory() throws(AdapterError) {
        guard let directory = workingDirectory else { return }
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw AdapterError(.agentFailure, "The working directory '\(directory)' for the \(role) is not an existing directory.")
        }
    }

    /// The first executable file named `name` in the directories of `path` (a `PATH` value).
    public static func lookUp(_ name: String, path: String) -> String? {
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)"
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// Whether `path` is a regular file this process may execute.
    public static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The environment of this process, as a dictionary (the first of duplicate names wins).
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
            }
            pointer += 1
        }
        return result
    }
}
