import Testing
import SwitchboardAdapterAPI
@testable import ACPAdapter

@Suite("ACP settings")
struct ACPSettingsTests {
    /// The error the settings are refused with, or `nil` when they are accepted.
    static func refusal(_ json: JSONValue) -> AdapterError? {
        do {
            _ = try ACPSettings(json: json)
            return nil
        } catch {
            return error
        }
    }

    @Test("binary is required; the other keys have defaults")
    func defaults() throws {
        let settings = try ACPSettings(json: .object(["binary": .string("/opt/fa/bin/fast-agent-acp")]))
        #expect(settings.binary == "/opt/fa/bin/fast-agent-acp")
        #expect(settings.binaryName == "fast-agent-acp")
        #expect(settings.fileSystem && settings.terminal)
        #expect(settings.mode == nil && settings.extraArgs.isEmpty && settings.env.isEmpty)
        #expect(settings.interruptGraceMilliseconds == 5000)
        #expect(settings.requestTimeoutMilliseconds == 120_000)
        let tuned = try ACPSettings(json: .object([
            "binary": .string("agent"), "extraArgs": .array([.string("--acp")]), "env": .object(["A": .string("1")]),
            "mode": .string("ask"), "fileSystem": .bool(false), "terminal": .bool(false),
            "interruptGraceSeconds": .number("0.5"), "turnTimeoutSeconds": .int(60),
        ]))
        #expect(tuned.extraArgs == ["--acp"] && tuned.env == ["A": "1"] && tuned.mode == "ask")
        #expect(!tuned.fileSystem && !tuned.terminal)
        #expect(tuned.interruptGraceMilliseconds == 500 && tuned.turnTimeoutMilliseconds == 60_000)
    }

    @Test("Mistakes are refused naming the key")
    func mistakes() {
        #expect(Self.refusal(.object([:]))?.message.contains("settings.binary: is required") == true)
        #expect(Self.refusal(.object(["binary": .string("")]))?.message.contains("settings.binary") == true)
        #expect(Self.refusal(.object(["binary": .string("x"), "extraArgs": .string("--shell")]))?.message.contains("settings.extraArgs") == true)
        #expect(Self.refusal(.object(["command": .string("x")]))?.message.contains("settings.command: renamed to 'binary'") == true)
        #expect(Self.refusal(.object(["binary": .string("x"), "colour": .string("red")]))?.message.contains("settings.colour") == true)
        #expect(Self.refusal(.object(["binary": .string("x"), "turnTimeoutSeconds": .int(0)]))?.message.contains("settings.turnTimeoutSeconds") == true)
        #expect(Self.refusal(.string("fast"))?.code == .invalidSettings)
    }
}
