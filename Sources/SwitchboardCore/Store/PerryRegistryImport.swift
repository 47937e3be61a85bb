import SwitchboardAdapterAPI

/// What importing the original system's session registry did.
public struct PerryImportReport: Sendable, Hashable, CustomStringConvertible {
    /// One registry entry that was not imported, and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The entry's key in the registry's `sessions` object.
        public var key: String
        /// A full sentence naming what is wrong.
        public var message: String

        /// A problem with the entry at `key`.
        public init(key: String, message: String) {
            self.key = key
            self.message = message
        }

        /// The message.
        public var description: String { message }
    }

    /// Entries added to the store.
    public var imported: Int
    /// Entries the store already had (same id, or same agent type and agent session id).
    public var alreadyPresent: Int
    /// Entries skipped because they are incomplete or malformed.
    public var problems: [Problem]

    /// A report with these counts and problems.
    public init(imported: Int = 0, alreadyPresent: Int = 0, problems: [Problem] = []) {
        self.imported = imported
        self.alreadyPresent = alreadyPresent
        self.problems = problems
    }

    /// The counts on one line, then one line per problem.
    public var description: String {
        var text = "\(imported) imported, \(alreadyPresent) already present, \(problems.count) skipped"
        for problem in problems { text += "\n  \(problem.message)" }
        return text
    }
}

/// Imports the original TypeScript system's `session-registry.json` into a ``SessionStore``.
///
/// The file looks like
/// `{"version": 1, "sessions": {"<id>": {"perrySessionId": "<id>", "workspaceName": "w",
/// "agentType": "claude", "agentSessionId": null, "projectPath": null,
/// "createdAt": "2025-01-02T03:04:05.678Z", "lastActivity": "2025-01-02T03:04:05.678Z"}}}`.
/// Times are ISO-8601 strings or epoch milliseconds; `agentSessionId` and `projectPath` may
/// be `null` or missing. Importing is idempotent: each entry goes through
/// ``SessionStore/importSession(_:)``, so running it twice adds nothing the second time.
public enum PerryRegistryImport {
    /// The registry's file name inside the original system's state directory.
    public static let fileName = "session-registry.json"

    /// Imports every usable entry of the registry at `path` into `store`, in key order.
    /// An incomplete entry is skipped and reported; the others still import.
    /// - Throws: ``SessionStoreError`` with code `invalidImport`, naming the file, when it
    ///   cannot be read, is not JSON, or is not a version 1 registry; the store's errors
    ///   as they come.
    public static func importFile(_ path: String, into store: any SessionStore) async throws -> PerryImportReport {
        let bytes: [UInt8]
        do {
            bytes = try FileError.readContents(of: path)
        } catch {
            throw SessionStoreError(.invalidImport, "Session registry '\(path)' cannot be read: \(error.reason).")
        }
        let entries = try parse(String(decoding: bytes, as: UTF8.self), path: path)
        var report = PerryImportReport(problems: entries.problems)
        for record in entries.records {
            if try await store.get(record.id) != nil {
                report.alreadyPresent += 1
            } else if try await store.importSession(record).id != record.id {
                report.alreadyPresent += 1  // Known under another id, by its agent session.
            } else {
                report.imported += 1
            }
        }
        return report
    }

    /// The records a registry's text describes, and the entries that describe none.
    static func parse(_ text: String, path: String) throws(SessionStoreError) -> (records: [SessionRecord], problems: [PerryImportReport.Problem]) {
        func invalid(_ reason: String) -> SessionStoreError {
            SessionStoreError(.invalidImport, "Session registry '\(path)' cannot be imported: \(reason).")
        }
        let root: JSONValue
        do {
            root = try JSONValue(parsing: text)
        } catch {
            throw invalid("it is not valid JSON (\(error.description))")
        }
        guard let object = root.objectValue else {
            throw invalid("the top level must be an object, not \(root.kindDescription)")
        }
        guard let version = object["version"] else { throw invalid("it has no \"version\"") }
        guard version.intValue == 1 else {
            let shown: String
            if case .number(let literal) = version { shown = literal } else { shown = version.kindDescription }
            throw invalid("it has version \(shown); only version 1 is understood")
        }
        guard let sessions = object["sessions"]?.objectValue else {
            throw invalid("\"sessions\" must be an object, not \(object["sessions"]?.kindDescription ?? "missing")")
        }
        var records: [SessionRecord] = []
        var problems: [PerryImportReport.Problem] = []
        for key in sessions.keys.sorted() {
            switch record(key: key, sessions[key] ?? .null) {
            case .record(let record): records.append(record)
            case .problem(let problem): problems.append(problem)
            }
        }
        return (records, problems)
    }

    /// What one registry entry turned out to be.
    enum Entry {
        case record(SessionRecord)
        case problem(PerryImportReport.Problem)
    }

    /// One entry as a record, or the problem naming its key and every unusable field.
    static func record(key: String, _ entry: JSONValue) -> Entry {
        func problem(_ what: String) -> PerryImportReport.Problem {
            PerryImportReport.Problem(key: key, message: "Session '\(key)' was skipped: \(what).")
        }
        guard let fields = entry.objectValue else {
            return .problem(problem("the entry must be an object, not \(entry.kindDescription)"))
        }
        var issues: [String] = []
        func requiredString(_ name: String) -> String? {
            guard let value = fields[name], value != .null else { issues.append("\(name) is missing"); return nil }
            guard let text = value.stringValue, !text.isEmpty else {
                issues.append("\(name) must be a non-empty string, not \(value.kindDescription)")
                return nil
            }
            return text
        }
        func optionalString(_ name: String) -> String? {
            guard let value = fields[name], value != .null else { return nil }
            guard let text = value.stringValue else {
                issues.append("\(name) must be a string or null, not \(value.kindDescription)")
                return nil
            }
            return text.isEmpty ? nil : text
        }
        func time(_ name: String) -> Int64? {
            guard let value = fields[name], value != .null else { issues.append("\(name) is missing"); return nil }
            if let text = value.stringValue {
                if let millis = ISO8601Milliseconds.parse(text) { return millis }
                issues.append("\(name) '\(text)' is not an ISO-8601 date-time")
                return nil
            }
            if case .number(let literal) = value {
                if let millis = Int64(literal) { return millis }
                if let double = Double(literal), double.isFinite, abs(double) < 9e15 { return Int64(double.rounded()) }
            }
            issues.append("\(name) must be an ISO-8601 string or epoch milliseconds, not \(value.kindDescription)")
            return nil
        }

        if let id = optionalString("perrySessionId"), id != key {
            issues.append("its perrySessionId '\(id)' differs from its key")
        }
        let workspaceName = requiredString("workspaceName")
        let agentType = requiredString("agentType")
        let agentSessionId = optionalString("agentSessionId")
        let projectPath = optionalString("projectPath")
        let createdAt = time("createdAt")
        let lastActivity = time("lastActivity")
        guard issues.isEmpty, let workspaceName, let agentType, let createdAt, let lastActivity else {
            return .problem(problem(issues.joined(separator: "; ")))
        }
        return .record(SessionRecord(
            id: key,
            workspaceName: workspaceName,
            agentType: agentType,
            agentSessionId: agentSessionId,
            projectPath: projectPath,
            createdAt: createdAt,
            lastActivity: lastActivity
        ))
    }
}
