import Testing
import SwitchboardAdapterAPI

@Suite("Settings reader")
struct SettingsReaderTests {
    static let known = ["binary", "env", "extraArgs", "flag", "grace", "name", "nested", "note", "script", "count"]

    static func reader(_ json: String, renamed: [String: String] = [:]) throws -> SettingsReader {
        try SettingsReader(try JSONValue(parsing: json), known: known, renamed: renamed)
    }

    /// The `invalidSettings` error with this message.
    static func refused(_ message: String) -> AdapterError {
        AdapterError(.invalidSettings, message)
    }

    // MARK: The object and its keys

    @Test("Settings that are not an object are refused with their kind", arguments: [
        ("[]", "settings: must be an object, not an array"),
        ("\"x\"", "settings: must be an object, not a string"),
        ("null", "settings: must be an object, not null"),
        ("3", "settings: must be an object, not a number"),
    ])
    func notAnObject(json: String, message: String) throws {
        #expect(throws: Self.refused(message)) { try Self.reader(json) }
    }

    @Test("An unknown key is refused with the known keys, sorted")
    func unknownKey() throws {
        #expect(throws: Self.refused("settings.colour: unknown setting (known: binary, count, env, extraArgs, flag, grace, name, nested, note, script)")) {
            try Self.reader(#"{"binary":"x","colour":"red"}"#)
        }
        #expect(throws: Self.refused("settings.b: unknown setting (known: a, c)")) {
            try SettingsReader(.object(["b": .int(1), "z": .int(2)]), known: ["c", "a"])
        }
    }

    @Test("A plugin that takes no settings accepts {} and says it takes none")
    func noSettings() throws {
        _ = try SettingsReader(.object([:]), known: [])
        #expect(throws: Self.refused("settings.model: unknown setting (known: none)")) {
            try SettingsReader(.object(["model": .string("x")]), known: [])
        }
    }

    @Test("A renamed key is refused with a message naming the new key")
    func renamedKey() throws {
        #expect(throws: Self.refused("settings.command: renamed to 'binary'")) {
            try Self.reader(#"{"command":"opencode"}"#, renamed: ["command": "binary"])
        }
        // Renamed keys are reported before unknown ones, whatever the order.
        #expect(throws: Self.refused("settings.environment: renamed to 'env'")) {
            try Self.reader(#"{"zzz":1,"environment":{}}"#, renamed: ["environment": "env"])
        }
        // The new key is read as usual.
        let r = try Self.reader(#"{"binary":"opencode"}"#, renamed: ["command": "binary"])
        #expect(try r.string("binary") == "opencode")
    }

    @Test("Every getter returns nil for an absent key")
    func absentKeys() throws {
        let r = try Self.reader("{}")
        #expect(try r.string("name") == nil)
        #expect(try r.nonEmptyString("name") == nil)
        #expect(try r.bool("flag") == nil)
        #expect(try r.integer("count", in: 0...10) == nil)
        #expect(try r.seconds("grace", in: 0...10) == nil)
        #expect(try r.environment("env") == nil)
        #expect(try r.stringArray("extraArgs") == nil)
        #expect(try r.path("script") == nil)
        #expect(try r.object("nested", known: []) == nil)
        #expect(r.value("name") == nil)
    }

    // MARK: Getters: success

    @Test("Getters return the values they read")
    func values() throws {
        let r = try Self.reader(#"""
        {"name":"", "binary":"claude", "flag":false, "count":10, "grace":0.25, "script":"/tmp/a b.jsonl",
         "env":{"PATH":"/bin","EMPTY":""}, "extraArgs":["--a","b",""]}
        """#)
        #expect(try r.string("name") == "")
        #expect(try r.nonEmptyString("binary") == "claude")
        #expect(try r.bool("flag") == false)
        #expect(try r.integer("count", in: 0...10) == 10)
        #expect(try r.seconds("grace", in: 0...600) == .milliseconds(250))
        #expect(try r.path("script") == "/tmp/a b.jsonl")
        #expect(try r.environment("env") == ["PATH": "/bin", "EMPTY": ""])
        #expect(try r.stringArray("extraArgs") == ["--a", "b", ""])
        #expect(r.value("count") == .int(10))
    }

    @Test("Seconds may be whole or fractional and include both bounds", arguments: [
        ("0", Duration.zero), ("600", Duration.seconds(600)), ("1.5", Duration.milliseconds(1500)), ("2e1", Duration.seconds(20)),
    ])
    func secondsInRange(text: String, expected: Duration) throws {
        let r = try SettingsReader(.object(["grace": .number(text)]), known: ["grace"])
        #expect(try r.seconds("grace", in: 0...600) == expected)
    }

    @Test("Integers include both bounds")
    func integerBounds() throws {
        let r = try SettingsReader(.object(["low": .int(-5), "high": .int(5)]), known: ["low", "high"])
        #expect(try r.integer("low", in: -5...5) == -5)
        #expect(try r.integer("high", in: -5...5) == 5)
    }

    // MARK: Getters: errors

    @Test("A value of the wrong kind is refused with what it must be and what it is", arguments: [
        (#"{"name":1}"#, "settings.name: must be a string, not a number"),
        (#"{"binary":false}"#, "settings.binary: must be a non-empty string, not a boolean"),
        (#"{"binary":""}"#, "settings.binary: must be a non-empty string, not an empty string"),
        (#"{"flag":"yes"}"#, "settings.flag: must be true or false, not a string"),
        (#"{"flag":1}"#, "settings.flag: must be true or false, not a number"),
        (#"{"count":"3"}"#, "settings.count: must be a whole number from 0 to 10, not a string"),
        (#"{"count":11}"#, "settings.count: must be a whole number from 0 to 10, not 11"),
        (#"{"count":-1}"#, "settings.count: must be a whole number from 0 to 10, not -1"),
        (#"{"count":1.5}"#, "settings.count: must be a whole number from 0 to 10, not 1.5"),
        (#"{"count":1e1}"#, "settings.count: must be a whole number from 0 to 10, not 1e1"),
        (#"{"grace":-1}"#, "settings.grace: must be a number of seconds from 0 to 86400, not -1"),
        (#"{"grace":86400.5}"#, "settings.grace: must be a number of seconds from 0 to 86400, not 86400.5"),
        (#"{"grace":true}"#, "settings.grace: must be a number of seconds from 0 to 86400, not a boolean"),
        (#"{"grace":"soon"}"#, "settings.grace: must be a number of seconds from 0 to 86400, not a string"),
        (#"{"grace":null}"#, "settings.grace: must be a number of seconds from 0 to 86400, not null"),
        (#"{"env":[]}"#, "settings.env: must be an object of strings, not an array"),
        (#"{"env":{"PATH":1}}"#, "settings.env.PATH: must be a string, not a number"),
        (#"{"env":{"A=B":"x"}}"#, "settings.env: 'A=B' is not a valid environment variable name"),
        (#"{"env":{"":"x"}}"#, "settings.env: '' is not a valid environment variable name"),
        (#"{"extraArgs":"--x"}"#, "settings.extraArgs: must be an array of strings, not a string"),
        (#"{"extraArgs":["a","b",{}]}"#, "settings.extraArgs[2]: must be a string, not an object"),
        (#"{"script":7}"#, "settings.script: must be a file path, not a number"),
        (#"{"script":""}"#, "settings.script: must be a file path, not an empty string"),
        (#"{"script":"a\u0000b"}"#, "settings.script: must be a file path, not a string with a NUL character"),
    ])
    func wrongValues(json: String, message: String) throws {
        let r = try Self.reader(json)
        #expect(throws: Self.refused(message)) {
            _ = try r.string("name")
            _ = try r.nonEmptyString("binary")
            _ = try r.bool("flag")
            _ = try r.integer("count", in: 0...10)
            _ = try r.seconds("grace", in: 0...86_400)
            _ = try r.environment("env")
            _ = try r.stringArray("extraArgs")
            _ = try r.path("script")
        }
    }

    @Test("A fractional bound is shown as written")
    func fractionalBound() throws {
        let r = try SettingsReader(.object(["grace": .int(2)]), known: ["grace"])
        #expect(throws: Self.refused("settings.grace: must be a number of seconds from 0.5 to 1.5, not 2")) {
            try r.seconds("grace", in: 0.5...1.5)
        }
    }

    @Test("An environment variable name with a NUL is refused")
    func environmentNameWithNul() throws {
        let r = try SettingsReader(.object(["env": .object(["A\u{0}B": .string("x")])]), known: ["env"])
        #expect(throws: Self.refused("settings.env: 'A\u{0}B' is not a valid environment variable name")) {
            try r.environment("env")
        }
    }

    // MARK: Nested objects

    @Test("A nested object is read with full key paths")
    func nested() throws {
        let r = try Self.reader(#"{"nested":{"user":"dev","inner":{"depth":2}}}"#)
        let nested = try #require(try r.object("nested", known: ["inner", "user"]))
        #expect(nested.path == "settings.nested")
        #expect(try nested.nonEmptyString("user") == "dev")
        let inner = try #require(try nested.object("inner", known: ["depth"]))
        #expect(inner.path == "settings.nested.inner")
        #expect(try inner.integer("depth", in: 0...9) == 2)
        #expect(throws: Self.refused("settings.nested.inner.depth: must be a whole number from 0 to 1, not 2")) {
            try inner.integer("depth", in: 0...1)
        }
        #expect(throws: Self.refused("settings.nested.user: must be true or false, not a string")) {
            try nested.bool("user")
        }
    }

    @Test("A nested object checks its kind, unknown keys and renamed keys")
    func nestedErrors() throws {
        #expect(throws: Self.refused("settings.nested: must be an object, not an array")) {
            try Self.reader(#"{"nested":[]}"#).object("nested", known: [])
        }
        #expect(throws: Self.refused("settings.nested.usr: unknown setting (known: user)")) {
            try Self.reader(#"{"nested":{"usr":"x"}}"#).object("nested", known: ["user"])
        }
        #expect(throws: Self.refused("settings.nested.uid: renamed to 'user'")) {
            try Self.reader(#"{"nested":{"uid":"x"}}"#).object("nested", known: ["user"], renamed: ["uid": "user"])
        }
    }

    // MARK: A plugin's own checks

    @Test("A plugin's own errors read like the reader's")
    func pluginErrors() throws {
        let r = try Self.reader(#"{"note":5,"nested":{}}"#)
        #expect(r.keyPath("note") == "settings.note")
        #expect(r.invalid("note", "'x' is not a mode") == Self.refused("settings.note: 'x' is not a mode"))
        #expect(r.invalid("extraArgs[0]", "is set by the adapter") == Self.refused("settings.extraArgs[0]: is set by the adapter"))
        #expect(r.invalid("give either 'a' or 'b', not both") == Self.refused("settings: give either 'a' or 'b', not both"))
        #expect(r.invalid("note", mustBe: "an array of turns", not: .int(5)) == Self.refused("settings.note: must be an array of turns, not a number"))
        #expect(r.invalid("note", mustBe: "an array of turns", not: .string("x")) == Self.refused("settings.note: must be an array of turns, not a string"))
        let nested = try #require(try r.object("nested", known: []))
        #expect(nested.invalid("user", "needs \(nested.keyPath("group"))") == Self.refused("settings.nested.user: needs settings.nested.group"))
    }
}
