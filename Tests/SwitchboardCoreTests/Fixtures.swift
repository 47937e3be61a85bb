import Foundation
import Synchronization
import SwitchboardTesting

/// Builds the C fixture plugin in its variants, once per test run.
enum Fixtures {
    private static let built = Mutex<[String: String]>([:])
    private static let directory: String = {
        // A failure here fails every test that needs a fixture, with the reason.
        (try? TemporaryDirectory(prefix: "switchboard-fixtures").path) ?? NSTemporaryDirectory()
    }()

    static var source: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/test_plugin.c").path
    }

    /// The fixture compiled with `defines`, as `<name>.so` in a fresh directory of its own.
    static func plugin(_ name: String, _ defines: [String] = []) throws -> String {
        let key = name + "|" + defines.joined(separator: " ")
        if let path = built.withLock({ $0[key] }) { return path }
        let dir = directory + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let output = dir + "/\(name).so"
        try CPluginCompiler.build(source: source, output: output, defines: defines)
        built.withLock { $0[key] = output }
        return output
    }
}
