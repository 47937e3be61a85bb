import Foundation
import Testing
import SwitchboardTesting

/// Runs the shell commands the docs show, in order, as a reader would from the repository
/// root, and compares the output the docs print after them.
///
/// Each document runs in a sandbox directory of its own that links `Sources`, `Docs`,
/// `Examples`, `Plugins` and `.build` to the repository, so the files the commands write
/// (`libEchoC.so`, `plugins/`, config files) do not land in the working tree. `swift build
/// --package-path …` and `swift test --package-path …` run in the repository itself (they
/// write only into that package's own `.build`), through the same once-per-run tasks as the
/// out-of-tree tests. A plain output block right after a `sh` block must appear, line by line
/// (runs of spaces compared as one), in what the block's last command printed.
@Suite("The docs' commands (slow: builds Examples/EchoAgent)", .tags(.slow))
struct DocCommandsTests {
    /// Commands `swift test` cannot run for itself: building or testing the root package
    /// (its `.build` is locked while the tests run). CI runs `swift test`, which builds
    /// everything `swift build` does, before any of this.
    static let runBeforeTheTests: Set<String> = ["swift build", "swift test", "bash .ci/setup && swift test"]

    /// Commands the docs show that no test runs, with the reason.
    static let notRun: [String: String] = [
        "swift run -c release switchboard-benchmarks": "a release build of the root package; it cannot run while `swift test` holds its .build",
    ]

    struct Block {
        var commands: [String]
        var expectedOutput: [String]?
        var line: Int
    }

    /// The `sh` blocks of a Markdown file, each with the plain block that follows it directly.
    static func blocks(in path: String) throws -> [Block] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            let fence = lines[index].trimmingCharacters(in: .whitespaces)
            guard fence.hasPrefix("```") else { index += 1; continue }
            let language = String(fence.dropFirst(3))
            var body: [String] = []
            let start = index + 1
            index += 1
            while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                body.append(lines[index])
                index += 1
            }
            index += 1
            if language == "sh" {
                blocks.append(Block(commands: body, expectedOutput: nil, line: start))
            } else if language.isEmpty, let last = blocks.last, last.expectedOutput == nil,
                      lines[(last.line + last.commands.count + 1)..<(start - 1)].allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                blocks[blocks.count - 1].expectedOutput = body
            }
        }
        return blocks
    }

    /// A command line without its comment, or `nil` for a comment or a blank line.
    static func command(_ line: String) -> String? {
        var text = line.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text.hasPrefix("#") { return nil }
        if let comment = text.range(of: "  #") { text = String(text[..<comment.lowerBound]).trimmingCharacters(in: .whitespaces) }
        return text
    }

    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Runs every command of one document; returns the commands not run, for the caller.
    func run(_ document: String) async throws -> [String] {
        let sandbox = try TemporaryDirectory(prefix: "switchboard-docs")
        defer { sandbox.remove() }
        for entry in ["Sources", "Docs", "Examples", "Plugins", ".build"] {
            try FileManager.default.createSymbolicLink(atPath: sandbox.path + "/" + entry, withDestinationPath: Repository.path(entry))
        }
        var skipped: [String] = []
        for block in try Self.blocks(in: Repository.path(document)) {
            var output = ""
            for line in block.commands {
                guard let command = Self.command(line) else { continue }
                let place = "\(document):\(block.line): `\(command)`"
                if Self.runBeforeTheTests.contains(command) {
                    #expect(FileManager.default.isExecutableFile(atPath: BuildProducts.executable("switchboard")), "\(place): switchboard was not built")
                    continue
                }
                if Self.notRun[command] != nil {
                    skipped.append(command)
                    continue
                }
                let result: ChildProcess.Result
                switch command {
                case EchoAgentBuild.command:
                    _ = try await EchoAgentBuild.once.value
                    result = ChildProcess.Result(status: 0, stdout: "", stderr: "")
                case EchoAgentTests.command:
                    result = try await EchoAgentTests.once.value
                default:
                    result = try await ChildProcess.launch("/bin/sh", ["-c", command], currentDirectory: sandbox.path, timeout: .seconds(300))
                }
                #expect(result.status == 0, "\(place) exited with \(result.status): \(result.stdout)\(result.stderr)")
                output = result.stdout
            }
            guard let expected = block.expectedOutput else { continue }
            let actual = Self.collapse(output)
            for line in expected where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                #expect(actual.contains(Self.collapse(line)), "\(document):\(block.line): the docs show `\(line)`, but the command printed:\n\(output)")
            }
        }
        return skipped
    }

    @Test("Docs/WritingAnAdapter.md: from zero to a loaded plugin, in Swift and in C, and the conformance suite")
    func writingAnAdapter() async throws {
        let skipped = try await run("Docs/WritingAnAdapter.md")
        #expect(skipped.isEmpty, "not run: \(skipped)")
    }

    @Test("Docs/Architecture.md")
    func architecture() async throws {
        let skipped = try await run("Docs/Architecture.md")
        #expect(skipped == ["swift run -c release switchboard-benchmarks"])
    }

    @Test("Examples/EchoAgent/README.md")
    func echoAgentReadme() async throws {
        let skipped = try await run("Examples/EchoAgent/README.md")
        #expect(skipped.isEmpty, "not run: \(skipped)")
    }

    @Test("Docs/Examples/CEchoPlugin/README.md")
    func cEchoReadme() async throws {
        let skipped = try await run("Docs/Examples/CEchoPlugin/README.md")
        #expect(skipped.isEmpty, "not run: \(skipped)")
    }

    @Test("The block parser finds commands and the output printed after them")
    func parser() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let doc = try dir.write("doc.md", "text\n\n```sh\n# a comment\nls  # list\necho hi\n```\n\n```\nhi\n```\n\n```swift\nlet x = 1\n```\n\n```sh\ntrue\n```\nprose\n```\nnot output\n```\n")
        let blocks = try Self.blocks(in: doc)
        #expect(blocks.count == 2)
        #expect(blocks[0].commands.compactMap(Self.command) == ["ls", "echo hi"])
        #expect(blocks[0].expectedOutput == ["hi"])
        #expect(blocks[1].commands == ["true"])
        #expect(blocks[1].expectedOutput == nil)
    }
}
