import Testing
import SwitchboardAdapterAPI
import SwitchboardCore
import SwitchboardTesting
#if canImport(Glibc)
import Glibc
#endif

/// Files named by the operator (the config, a script) are read only when they are regular
/// files of at most 16 MiB; anything else fails at once with the file's name.
@Suite("Reading files: only regular files, with a bound", .childProcessGate)
struct FileReadingTests {
    func fifo(in dir: TemporaryDirectory) throws -> String {
        let path = dir.path + "/pipe"
        try #require(mkfifo(path, 0o600) == 0)
        return path
    }

    @Test("A device, a FIFO, a directory and an oversized file are refused with the path; a small file is read")
    func readContents() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: FileError(path: "/dev/zero", reason: "not a regular file (a character device)")) { try FileError.readContents(of: "/dev/zero") }
        let pipe = try fifo(in: dir)
        #expect(throws: FileError(path: pipe, reason: "not a regular file (a FIFO)")) { try FileError.readContents(of: pipe) }
        #expect(throws: FileError(path: dir.path, reason: "not a regular file (a directory)")) { try FileError.readContents(of: dir.path) }
        let big = dir.path + "/big"
        let fd = open(big, O_CREAT | O_WRONLY, 0o600)
        try #require(fd >= 0 && ftruncate(fd, 17 << 20) == 0)
        close(fd)
        #expect(throws: FileError(path: big, reason: "the file is larger than 16777216 bytes (17825792 bytes)")) { try FileError.readContents(of: big) }
        #expect(throws: FileError.self) { try FileError.readContents(of: try dir.write("small", "abc"), maximumBytes: 2) }
        #expect(try FileError.readContents(of: try dir.write("ok", "hello")) == Array("hello".utf8))
    }

    @Test("A config that is /dev/zero or a FIFO is refused at once, naming the file")
    func configFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for path in ["/dev/zero", try fifo(in: dir)] {
            #expect(throws: ConfigError.self) { try SwitchboardConfig.load(path: path, bundledPluginDirectory: BuildProducts.directory) }
            do {
                _ = try SwitchboardConfig.load(path: path, bundledPluginDirectory: BuildProducts.directory)
            } catch {
                #expect(error.description.contains("cannot read '\(path)': not a regular file"))
            }
        }
    }

    @Test("`config validate` and `serve --config` on a FIFO or /dev/zero fail with the file's name, without hanging")
    func cliConfig() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for path in ["/dev/zero", try fifo(in: dir)] {
            for arguments in [["config", "validate", path], ["serve", "--config", path, "--port", "0"]] {
                let result = try await ChildProcess.launch(BuildProducts.executable("switchboard"), arguments, timeout: .seconds(20))
                #expect(result.status != 0)
                #expect(result.stderr.contains("cannot read '\(path)': not a regular file"), "\(arguments): \(result.stderr)")
            }
        }
    }

    @Test("The scripted plugin refuses a script that is /dev/zero or a FIFO, naming settings.script and the file")
    func scriptFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let plugin = try PluginLoader.load(BuildProducts.plugin("ScriptedAdapter"))
        for path in ["/dev/zero", try fifo(in: dir)] {
            do {
                _ = try PluginAdapter(plugin: plugin, settings: .object(["script": .string(path)]))
                Issue.record("\(path) was accepted as a script")
            } catch {
                #expect("\(error)".contains("settings.script: cannot read '\(path)': not a regular file"), "\(error)")
            }
        }
    }
}
