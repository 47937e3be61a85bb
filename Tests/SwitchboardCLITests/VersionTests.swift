import SwitchboardPluginSDK
import Testing
import SwitchboardTesting

/// `switchboard --version` names the Swift compiler plugins must be built with.
@Suite("switchboard --version", .childProcessGate)
struct VersionTests {
    @Test("`--version` prints the version, the Swift toolchain plugins must match, and the ABI")
    func version() throws {
        let result = try ChildProcess.run(BuildProducts.executable("switchboard"), ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        // The toolchain comes from the same definition the plugin SDK writes into descriptors.
        #expect(result.stdout.hasPrefix("switchboard "), "\(result.stdout)")
        #expect(result.stdout.hasSuffix(" (\(PluginInfo.swiftToolchain), plugin ABI 1)\n"), "\(result.stdout)")
        #expect(PluginInfo.swiftToolchain.split(separator: " ").first == "Swift")
    }
}
