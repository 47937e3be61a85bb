import CSwitchboardABI
import SwitchboardAdapterAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plugin that loaded: its descriptor, checked, and what it says about itself.
public struct LoadedPlugin: Sendable, Hashable {
    /// The file as it was named.
    public var path: String
    /// The agent type the plugin declares.
    public var agentType: String
    /// Its human-readable name.
    public var displayName: String
    /// The plugin's own version.
    public var pluginVersion: String
    /// The toolchain that built it.
    public var toolchain: String
    /// The ABI major version it speaks.
    public var abiVersion: UInt32
    /// The size of its descriptor.
    public var structSize: UInt32
    /// Whether it serves the agent types the config names it for rather than only the one it
    /// declares (`SWITCHBOARD_PLUGIN_CONFIGURED_TYPES`): a bridge to a family of agents, whose
    /// declared type names the family.
    public var servesConfiguredTypes: Bool

    /// The file name without directories, for messages.
    public var fileName: String { path.split(separator: "/").last.map(String.init) ?? path }

    /// The descriptor, when the plugin is loaded in this process; `nil` for a plugin that
    /// was probed by a helper and runs in one (`isolation: "process"`).
    package let descriptor: DescriptorPointer?

    /// A plugin described by a helper that loaded it in a process of its own.
    package init(path: String, probed: HelperDescriptor) {
        self.path = path
        agentType = probed.agentType
        displayName = probed.displayName
        pluginVersion = probed.pluginVersion
        toolchain = probed.toolchain
        abiVersion = probed.abiVersion
        structSize = probed.structSize
        servesConfiguredTypes = probed.servesConfiguredTypes
        descriptor = nil
    }

    init(path: String, agentType: String, displayName: String, pluginVersion: String, toolchain: String, abiVersion: UInt32, structSize: UInt32,
         servesConfiguredTypes: Bool, descriptor: DescriptorPointer) {
        self.path = path
        self.agentType = agentType
        self.displayName = displayName
        self.pluginVersion = pluginVersion
        self.toolchain = toolchain
        self.abiVersion = abiVersion
        self.structSize = structSize
        self.servesConfiguredTypes = servesConfiguredTypes
        self.descriptor = descriptor
    }

    /// What a helper reports about this plugin.
    package var helperDescriptor: HelperDescriptor {
        HelperDescriptor(agentType: agentType, displayName: displayName, pluginVersion: pluginVersion, toolchain: toolchain,
                         abiVersion: abiVersion, structSize: structSize, answers: descriptor?.table.answer != nil,
                         servesConfiguredTypes: servesConfiguredTypes)
    }
}

/// The plugin's descriptor, and the host's copy of it that calls go through.
///
/// The pointer stays valid for the life of the process (plugins are never unloaded), but it
/// is kept only for identity and tests: `table` was copied from it reading no byte at or past
/// the plugin's `struct_size` (see ``PluginLoader/copyDescriptor(_:structSize:as:)``), so a
/// descriptor smaller than this host's header is never read past its end.
package struct DescriptorPointer: @unchecked Sendable, Hashable {
    package let pointer: UnsafePointer<switchboard_plugin_descriptor>
    package let table: switchboard_plugin_descriptor

    package static func == (a: DescriptorPointer, b: DescriptorPointer) -> Bool { a.pointer == b.pointer }
    package func hash(into hasher: inout Hasher) { hasher.combine(pointer) }
}

/// Opens plugin files with `dlopen` and checks their descriptors.
///
/// Every failure is a ``PluginLoadError`` naming the file and the reason; nothing a plugin
/// file contains can crash the host before its descriptor has been checked. Loaded files
/// stay loaded for the life of the process (a Swift library must never be `dlclose`d), and
/// loading one path twice returns the same plugin.
public enum PluginLoader {
    /// The ABI major versions this host speaks.
    public static let supportedABIVersions: [UInt32] = [UInt32(SWITCHBOARD_ABI_VERSION)]

    /// The size of the version-1 descriptor: the end of its last field, `free_buffer` (104
    /// bytes on 64-bit Linux). A descriptor smaller than this is refused. It stays the same
    /// when fields are appended to the header.
    public static var minimumDescriptorSize: Int { switchboard_descriptor_v1_size() }

    /// The Swift compiler that built this host, e.g. `Swift 6.3.1`. A plugin whose
    /// descriptor names another Swift compiler is refused (see ``toolchainProblem(_:)``).
    public static var hostToolchain: String { SwiftToolchain.current }

    /// Why a plugin built with `toolchain` cannot run in this host, or `nil` when it can.
    ///
    /// Swift has no stable ABI on Linux, so a Swift plugin (toolchain `Swift …`) must come
    /// from exactly the host's compiler version; other toolchains (a C plugin's `gcc 12.2.0`)
    /// do not use the Swift runtime and always pass.
    public static func toolchainProblem(_ toolchain: String) -> String? {
        let host = hostToolchain
        guard SwiftToolchain.isSwift(toolchain), toolchain != host else { return nil }
        return "was built with \(toolchain); this switchboard runs \(host). Rebuild the plugin with \(host)."
    }

    private static let cache = Mutex<[String: LoadedPlugin]>([:])

    /// A copy of the plugin's descriptor in the host's layout `Host`: the plugin's first
    /// `structSize` bytes (at most `Host`'s size), and zero bytes after them — so a field the
    /// plugin's descriptor does not have reads as 0 or NULL, and nothing at or beyond
    /// `structSize` is ever read from the plugin. `Host` must be a C struct (or a Swift struct
    /// of plain values) that starts with the plugin's layout.
    static func copyDescriptor<Host>(_ base: UnsafeRawPointer, structSize: Int, as host: Host.Type) -> Host {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Host>.size, alignment: MemoryLayout<Host>.alignment)
        defer { copy.deallocate() }
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Host>.size)
        copy.copyMemory(from: base, byteCount: min(max(structSize, 0), MemoryLayout<Host>.size))
        return copy.load(as: Host.self)
    }

    /// Loads and checks the plugin at `path`.
    public static func load(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        let key = canonicalPath(path) ?? path
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let plugin = try open(path)
        return cache.withLock { cache in
            if let raced = cache[key] { return raced }
            cache[key] = plugin
            return plugin
        }
    }

    private static func open(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        func fail(_ code: PluginLoadError.Code, _ reason: String) -> PluginLoadError {
            PluginLoadError(code, "Plugin '\(path)' \(reason)")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw fail(.fileMissing, "does not exist.")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw fail(.notSharedObject, "is not a regular file.")
        }
        guard isELFSharedObject(path) else {
            throw fail(.notSharedObject, "is not an ELF shared object.")
        }
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw fail(.openFailed, "could not be opened: \(reason)")
        }
        // The handle is deliberately never closed (see the type's documentation).
        guard let symbol = dlsym(handle, SWITCHBOARD_PLUGIN_ENTRY_V1) else {
            if let other = otherMajorVersion(in: handle) {
                let host = supportedABIVersions.map(String.init).joined(separator: ", ")
                throw fail(.unsupportedABIVersion, "was built for ABI \(other) (it exports 'switchboard_plugin_v\(other)'); this host speaks ABI \(host).")
            }
            throw fail(.missingEntrySymbol, "does not export '\(SWITCHBOARD_PLUGIN_ENTRY_V1)'; it is not a Switchboard plugin.")
        }
        let entry = unsafeBitCast(symbol, to: switchboard_plugin_entry_v1.self)
        guard let descriptor = entry() else {
            throw fail(.nullDescriptor, "returned no descriptor (its entry '\(SWITCHBOARD_PLUGIN_ENTRY_V1)' returned NULL).")
        }
        // Only the first two fields may be read before the version and size are checked.
        let abi = descriptor.pointee.abi_version
        let size = descriptor.pointee.struct_size
        guard supportedABIVersions.contains(abi) else {
            let host = supportedABIVersions.map(String.init).joined(separator: ", ")
            throw fail(.unsupportedABIVersion, "was built for ABI \(abi); this host speaks ABI \(host).")
        }
        let minimum = minimumDescriptorSize
        guard Int(size) >= minimum else {
            throw fail(.descriptorTooSmall, "has a descriptor of \(size) bytes; ABI \(abi) needs at least \(minimum).")
        }
        // From here on only the host's copy is read: the plugin's bytes below struct_size,
        // and zero (NULL) for any field this host knows that the plugin's descriptor lacks.
        let d = copyDescriptor(UnsafeRawPointer(descriptor), structSize: Int(size), as: switchboard_plugin_descriptor.self)
        var missing: [String] = []
        if d.create == nil { missing.append("create") }
        if d.start == nil { missing.append("start") }
        if d.send_message == nil { missing.append("send_message") }
        if d.set_model == nil { missing.append("set_model") }
        if d.interrupt == nil { missing.append("interrupt") }
        if d.dispose == nil { missing.append("dispose") }
        if d.destroy == nil { missing.append("destroy") }
        if d.free_buffer == nil { missing.append("free_buffer") }
        guard missing.isEmpty else {
            throw fail(.invalidDescriptor, "has no function for \(missing.joined(separator: ", ")) in its descriptor.")
        }
        guard let typePointer = d.agent_type else {
            throw fail(.invalidAgentType, "declares no agent type.")
        }
        let agentType = String(cString: typePointer)
        if let problem = AgentTypeName.problem(with: agentType) {
            throw fail(.invalidAgentType, "declares an invalid agent type: \(problem).")
        }
        func string(_ p: UnsafePointer<CChar>?, _ fallback: String) -> String {
            p.map { String(cString: $0) } ?? fallback
        }
        let toolchain = string(d.toolchain, "unknown")
        if let problem = toolchainProblem(toolchain) {
            throw fail(.toolchainMismatch, problem)
        }
        return LoadedPlugin(
            path: path, agentType: agentType, displayName: string(d.display_name, agentType),
            pluginVersion: string(d.plugin_version, "unknown"), toolchain: toolchain, abiVersion: abi, structSize: size,
            servesConfiguredTypes: d.plugin_flags & SWITCHBOARD_PLUGIN_CONFIGURED_TYPES != 0,
            descriptor: DescriptorPointer(pointer: descriptor, table: d)
        )
    }

    /// Looks for an entry symbol of a later major version, to name it in the error.
    private static func otherMajorVersion(in handle: UnsafeMutableRawPointer) -> Int? {
        for version in 2...9 where dlsym(handle, "switchboard_plugin_v\(version)") != nil {
            return version
        }
        return nil
    }

    private static func isELFSharedObject(_ path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 18)
        guard fread(&header, 1, header.count, file) == header.count else { return false }
        guard header[0] == 0x7F, header[1] == UInt8(ascii: "E"), header[2] == UInt8(ascii: "L"), header[3] == UInt8(ascii: "F") else {
            return false
        }
        // e_type (little-endian on the platforms we build for): 3 = ET_DYN.
        let type = UInt16(header[16]) | UInt16(header[17]) << 8
        return type == 3
    }

    static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
