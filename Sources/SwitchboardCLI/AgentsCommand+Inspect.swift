import ArgumentParser
import SwitchboardAdapterAPI
import SwitchboardCore

extension Agents {
    /// `switchboard agents --inspect FILE`: loads the file as the host would — dlopen, the
    /// entry symbol, the descriptor checks — and prints what the descriptor says. No adapter
    /// is created, so the plugin's settings and its agent are not involved.
    static func inspect(_ path: String, json: Bool) throws {
        do {
            let plugin = try PluginLoader.load(path)
            if json {
                print(JSONValue.object(plugin.inspectionJSON).prettyText)
            } else {
                print(plugin.inspectionText)
            }
        } catch {
            if json {
                print(JSONValue.object([
                    "plugin": .string(path),
                    "status": .string("failed"),
                    "code": .string(error.code.description),
                    "error": .string(error.message),
                    "advice": .string(error.code.advice),
                    "hostABIVersions": .array(PluginLoader.supportedABIVersions.map { .int(Int($0)) }),
                ]).prettyText)
                throw ExitCode(1)
            }
            throw CLIError("\(error.message)\n\(error.code.advice)")
        }
    }
}

extension LoadedPlugin {
    var inspectionRows: [(String, String)] {
        let hostVersions = PluginLoader.supportedABIVersions.map(String.init).joined(separator: ", ")
        return [
            ("Plugin", path),
            ("Agent type", agentType),
            ("Display name", displayName),
            ("Plugin version", pluginVersion),
            ("ABI version", "\(abiVersion) (this host speaks \(hostVersions))"),
            ("Struct size", "\(structSize) bytes (ABI \(abiVersion) needs at least \(PluginLoader.minimumDescriptorSize))"),
            ("Toolchain", toolchain),
            ("Entry symbol", "switchboard_plugin_v\(abiVersion)"),
        ] + (servesConfiguredTypes ? [("Serves", "the agent types the config names it for (agents.<type>.plugin)")] : [])
    }

    var inspectionText: String {
        let width = inspectionRows.map(\.0.count).max() ?? 0
        return inspectionRows.map { name, value in
            "\(name):" + String(repeating: " ", count: width - name.count + 2) + value
        }.joined(separator: "\n")
    }

    var inspectionJSON: [String: JSONValue] {
        [
            "plugin": .string(path),
            "status": .string("loaded"),
            "agentType": .string(agentType),
            "displayName": .string(displayName),
            "pluginVersion": .string(pluginVersion),
            "abiVersion": .int(Int(abiVersion)),
            "structSize": .int(Int(structSize)),
            "minimumStructSize": .int(PluginLoader.minimumDescriptorSize),
            "toolchain": .string(toolchain),
            "servesConfiguredTypes": .bool(servesConfiguredTypes),
            "hostABIVersions": .array(PluginLoader.supportedABIVersions.map { .int(Int($0)) }),
        ]
    }
}

extension PluginLoadError.Code {
    /// What to do about a load failure, for `agents --inspect`.
    var advice: String {
        switch self {
        case .fileMissing:
            "Check the path: a relative path is relative to the current directory."
        case .notSharedObject:
            "A plugin is an ELF shared library: a Swift `.library(type: .dynamic)` product, or C built with `cc -shared -fPIC`."
        case .openFailed:
            "The dynamic loader refused it: a library it needs is missing (`ldd FILE` lists them), or it was built for another platform or Swift toolchain."
        case .missingEntrySymbol:
            "Export `switchboard_plugin_v1`: in Swift with `@_cdecl(\"switchboard_plugin_v1\")` on a public function (the SDK's SwitchboardPlugin.export), in C with `__attribute__((visibility(\"default\")))`. `nm -D --defined-only FILE` lists what it exports."
        case .unsupportedABIVersion:
            "Rebuild the plugin against this host's switchboard_abi.h (ABI \(PluginLoader.supportedABIVersions.map(String.init).joined(separator: ", "))), or use a host that speaks the plugin's ABI."
        case .descriptorTooSmall:
            "Set struct_size to sizeof(switchboard_plugin_descriptor) as compiled against switchboard_abi.h."
        case .nullDescriptor:
            "The entry function must return a pointer to a descriptor that stays valid while the library is loaded (a static one)."
        case .invalidDescriptor:
            "Every function pointer in the descriptor must be set."
        case .invalidAgentType:
            "Agent types are 1 to 64 bytes of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit."
        case .toolchainMismatch:
            "A Swift plugin runs on the host's Swift runtime: build it with \(PluginLoader.hostToolchain) (`swift --version` tells which compiler a machine has), or use a switchboard built with the plugin's."
        default:
            "See Docs/Architecture.md, 'ABI evolution', for what the loader checks."
        }
    }
}
