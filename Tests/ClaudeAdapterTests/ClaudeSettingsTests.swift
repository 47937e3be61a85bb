import Testing
import SwitchboardAdapterAPI
@testable import ClaudeAdapter

/// The Claude plugin's settings keys: the shared vocabulary, and the old names refused.
@Suite("Claude settings keys")
struct ClaudeSettingsTests {
    @Test("Graces are read in seconds, fractions allowed, and kept in milliseconds")
    func gracesInSeconds() throws {
        let settings = try ClaudeSettings(json: try JSONValue(parsing: #"{"interruptGraceSeconds":0.3,"shutdownGraceSeconds":12}"#))
        #expect(settings.interruptGraceMilliseconds == 300)
        #expect(settings.shutdownGraceMilliseconds == 12_000)
        let defaults = try ClaudeSettings(json: .object([:]))
        #expect(defaults == ClaudeSettings())
        #expect(defaults.interruptGraceMilliseconds == 5000)
        #expect(defaults.shutdownGraceMilliseconds == 5000)
    }

    @Test("The docker executable is the key 'docker'")
    func dockerKey() throws {
        let settings = try ClaudeSettings(json: try JSONValue(parsing: #"{"docker":"/opt/docker","containerWorkdir":"/src"}"#))
        #expect(settings.dockerBinary == "/opt/docker")
        #expect(settings.containerWorkdir == "/src")
    }

    @Test("Old key names are refused with the new name", arguments: [
        ("dockerBinary", "docker"), ("interruptGraceMs", "interruptGraceSeconds"), ("shutdownGraceMs", "shutdownGraceSeconds"),
    ])
    func renamed(old: String, new: String) throws {
        #expect(throws: AdapterError(.invalidSettings, "settings.\(old): renamed to '\(new)'")) {
            try ClaudeSettings(json: .object([old: .int(1)]))
        }
    }

    @Test("A grace above ten minutes is refused")
    func graceRange() throws {
        #expect(throws: AdapterError(.invalidSettings, "settings.shutdownGraceSeconds: must be a number of seconds from 0 to 600, not 600.5")) {
            try ClaudeSettings(json: try JSONValue(parsing: #"{"shutdownGraceSeconds":600.5}"#))
        }
    }
}
