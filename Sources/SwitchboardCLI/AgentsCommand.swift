import ArgumentParser
import NIOHTTP1
import SwitchboardAdapterAPI
import SwitchboardCore

/// `switchboard agents`: which plugin serves which agent type, and which failed.
struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the agent types, the plugin serving each, and any plugin that failed to load.",
        discussion: """
        Exits with status 1 when any plugin failed.
        With --inspect FILE, prints that plugin's descriptor (agent type, versions, struct size, \
        toolchain) without creating an adapter, or explains why it does not load (status 1).
        """
    )

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Print one plugin file's descriptor, or why it does not load.", valueName: "file"))
    var inspect: String?

    func validate() throws {
        if inspect != nil && options.config != nil {
            throw ValidationError("--inspect reads one plugin file and takes no --config.")
        }
    }

    func run() async throws {
        if let inspect {
            try Self.inspect(inspect, json: json)
            return
        }
        let config = try options.load()
        let catalog = PluginCatalog.load(config)
        // A running daemon knows its plugin helpers: their pids and restarts.
        let live = await Self.liveHelpers(config)
        if json {
            print(JSONValue.array(catalog.entries.map { entry in
                guard case .object(var object) = entry.jsonValue, let type = entry.agentType, let helper = live[type] else { return entry.jsonValue }
                for (key, value) in helper { object[key] = value }
                return .object(object)
            }).prettyText)
        } else {
            print(Self.table(catalog.entries, live: live))
        }
        if catalog.hasFailures { throw ExitCode(1) }
    }

    /// Per agent type, the daemon's `helperPid`, `restarts`, `crashes`, `lastCrash` and
    /// `backoffSeconds`; empty when no daemon answers.
    static func liveHelpers(_ config: SwitchboardConfig) async -> [String: [String: JSONValue]] {
        guard let answer = try? await DaemonClient(config: config).request(.GET, "/v1/agents"), answer.status == 200,
              let list = answer.body.arrayValue
        else { return [:] }
        var result: [String: [String: JSONValue]] = [:]
        for item in list {
            guard let type = item["agentType"]?.stringValue, item["isolation"]?.stringValue == "process" else { continue }
            var fields: [String: JSONValue] = [:]
            for key in ["helperPid", "restarts", "crashes", "lastCrash", "backoffSeconds"] { fields[key] = item[key] ?? .null }
            result[type] = fields
        }
        return result
    }

    static func table(_ entries: [PluginCatalog.Entry], live: [String: [String: JSONValue]] = [:]) -> String {
        guard !entries.isEmpty else { return "No plugins found." }
        let header = ["TYPE", "PLUGIN", "VERSION", "ABI", "ISOLATION", "HELPER", "STATUS"]
        let rows = entries.map { e -> [String] in
            [
                e.agentType ?? "-",
                e.path.isEmpty ? "-" : (e.plugin?.fileName ?? e.path),
                e.plugin?.pluginVersion ?? "-",
                e.plugin.map { String($0.abiVersion) } ?? "-",
                e.plugin == nil ? "-" : e.isolation.rawValue,
                Self.helperText(e.agentType.flatMap { live[$0] }),
                e.statusText,
            ]
        }
        let fixed = header.count - 1
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < fixed { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i < fixed ? cell + String(repeating: " ", count: widths[i] - cell.count) : cell
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension Agents {
    /// `pid 123, 2 restarts` (with the back-off, when there is one); `-` without a daemon.
    static func helperText(_ live: [String: JSONValue]?) -> String {
        guard let live else { return "-" }
        var parts: [String] = [live["helperPid"]?.intValue.map { "pid \($0)" } ?? "not running"]
        let restarts = live["restarts"]?.intValue ?? 0
        parts.append("\(restarts) restart\(restarts == 1 ? "" : "s")")
        if let wait = live["backoffSeconds"]?.intValue { parts.append("backing off \(wait) s") }
        return parts.joined(separator: ", ")
    }
}

extension PluginCatalog.Entry {
    var statusText: String {
        switch status {
        case .loaded: "loaded"
        case .superseded(let why): "not used: \(why)"
        case .failed(let why): "failed: \(why)"
        }
    }

    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "plugin": path.isEmpty ? .null : .string(path),
            "agentType": agentType.map(JSONValue.string) ?? .null,
        ]
        if let plugin {
            object["displayName"] = .string(plugin.displayName)
            object["pluginVersion"] = .string(plugin.pluginVersion)
            object["abiVersion"] = .int(Int(plugin.abiVersion))
            object["toolchain"] = .string(plugin.toolchain)
            object["isolation"] = .string(isolation.rawValue)
        }
        switch status {
        case .loaded:
            object["status"] = .string("loaded")
        case .superseded(let why):
            object["status"] = .string("superseded")
            object["reason"] = .string(why)
        case .failed(let why):
            object["status"] = .string("failed")
            object["error"] = .string(why)
        }
        return .object(object)
    }
}
