import ArgumentParser
import SwitchboardAdapterAPI
import SwitchboardCore

/// `switchboard agents`: which plugin serves which agent type, and which failed.
struct Agents: ParsableCommand {
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

    func run() throws {
        if let inspect {
            try Self.inspect(inspect, json: json)
            return
        }
        let catalog = PluginCatalog.load(try options.load())
        if json {
            print(JSONValue.array(catalog.entries.map(\.jsonValue)).prettyText)
        } else {
            print(Self.table(catalog.entries))
        }
        if catalog.hasFailures { throw ExitCode(1) }
    }

    static func table(_ entries: [PluginCatalog.Entry]) -> String {
        guard !entries.isEmpty else { return "No plugins found." }
        let header = ["TYPE", "PLUGIN", "VERSION", "ABI", "STATUS"]
        let rows = entries.map { e -> [String] in
            [
                e.agentType ?? "-",
                e.path.isEmpty ? "-" : (e.plugin?.fileName ?? e.path),
                e.plugin?.pluginVersion ?? "-",
                e.plugin.map { String($0.abiVersion) } ?? "-",
                e.statusText,
            ]
        }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < 4 { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i < 4 ? cell + String(repeating: " ", count: widths[i] - cell.count) : cell
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
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
