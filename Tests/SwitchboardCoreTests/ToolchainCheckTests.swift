import Testing
import SwitchboardAdapterAPI
import SwitchboardCore

/// Swift has no stable ABI on Linux: a Swift plugin must come from the host's compiler.
@Suite("Plugin toolchain check")
struct ToolchainCheckTests {
    @Test("The host's toolchain is the full compiler version")
    func hostToolchain() {
        let host = PluginLoader.hostToolchain
        #expect(host == SwiftToolchain.current)
        #if compiler(>=6.3.1) && !compiler(>=6.3.2)
        #expect(host == "Swift 6.3.1")
        #endif
        // "Swift 6.3" or "Swift 6.3.1": a major, a minor and at most one patch level.
        let version = host.dropFirst("Swift ".count).split(separator: ".")
        #expect(host.hasPrefix("Swift ") && (2...3).contains(version.count) && version.allSatisfy { Int($0) != nil }, "\(host)")
    }

    @Test("A plugin built with another Swift version is refused, naming both versions")
    func otherSwiftVersionIsRefused() throws {
        let path = try Fixtures.plugin("swift99", [#"TOOLCHAIN="Swift 9.9""#])
        let host = PluginLoader.hostToolchain
        do {
            let plugin = try PluginLoader.load(path)
            Issue.record("'\(path)' loaded as \(plugin.agentType)")
        } catch {
            #expect(error.code == .toolchainMismatch)
            #expect(error.message == "Plugin '\(path)' was built with Swift 9.9; this switchboard runs \(host). Rebuild the plugin with \(host).")
        }
    }

    @Test("A Swift plugin built with the host's own compiler loads")
    func sameSwiftVersionLoads() throws {
        let path = try Fixtures.plugin("swifthost", ["TOOLCHAIN=\"\(PluginLoader.hostToolchain)\""])
        #expect(try PluginLoader.load(path).toolchain == PluginLoader.hostToolchain)
    }

    @Test("C toolchains are not checked", arguments: ["gcc 12.2.0", "clang 18.1.3", "cc", "swiftc-ish"])
    func cToolchainLoads(toolchain: String) throws {
        let name = "c-" + toolchain.filter { $0.isLetter || $0.isNumber }
        let path = try Fixtures.plugin(name, ["TOOLCHAIN=\"\(toolchain)\""])
        #expect(try PluginLoader.load(path).toolchain == toolchain)
        #expect(PluginLoader.toolchainProblem(toolchain) == nil)
    }
}
