import Foundation
import SwitchboardCore

/// The daemon's bearer token: from the config, the environment, or a file it generated.
public enum AccessToken {
    /// The environment variable that can carry the token.
    public static let environmentVariable = "SWITCHBOARD_TOKEN"

    /// Where a generated token is kept: `<state directory>/token`, mode 0600.
    public static func filePath(stateDirectory: String) -> String {
        FilePaths.join(stateDirectory, "token")
    }

    /// The token to use and where it came from; generates and stores one when none exists.
    /// - Returns: the token, and a sentence for the log when one was generated.
    public static func resolve(configured: String?, stateDirectory: String) throws -> (token: String, generatedAt: String?) {
        if let configured { return (configured, nil) }
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { return (env, nil) }
        if let stored = read(stateDirectory: stateDirectory) { return (stored, nil) }
        let path = filePath(stateDirectory: stateDirectory)
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        // Create it readable by the user only, before writing the secret into it.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return (token, path)
    }

    /// The token stored in the state directory, if any — what the CLI's own commands use.
    public static func read(stateDirectory: String) -> String? {
        guard let text = try? String(contentsOfFile: filePath(stateDirectory: stateDirectory), encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// Compares in time that depends only on the lengths, not on where they differ.
    public static func matches(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
