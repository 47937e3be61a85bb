import Foundation
import Testing
import SwitchboardAdapterAPI
import SwitchboardProcess
import SwitchboardTesting
@testable import ACPAdapter

@Suite("ACP permissions")
struct ACPPermissionsTests {
    static func params(_ json: String) -> JSONValue { (try? JSONValue(parsing: json)) ?? .null }

    static let fastAgent = params(#"""
        {"sessionId":"s","toolCall":{"toolCallId":"t1","kind":"execute","status":"pending","title":"execute","rawInput":{"command":"touch x && echo ok"}},
         "options":[{"optionId":"allow_once","name":"Allow Once","kind":"allow_once"},{"optionId":"allow_always","name":"Always","kind":"allow_always"},
                    {"optionId":"reject_once","name":"Reject","kind":"reject_once"},{"optionId":"reject_always","name":"Never","kind":"reject_always"}]}
        """#)

    @Test("A request offers what the agent's option kinds allow; the answer echoes the agent's exact optionId")
    func mapping() {
        let request = ACPPermissions.decisionRequest(id: "acp-1-0", params: Self.fastAgent, knownKind: nil, root: "/p")
        #expect(request.toolName == "execute" && request.toolId == "t1")
        #expect(request.options == ["allow", "allow_session", "deny"])
        #expect(request.subject == "touch x && echo ok" && request.summary == "touch x && echo ok")
        #expect(request.problem == nil)
        let options = ACPPermissions.options(Self.fastAgent)
        func outcome(_ decision: String?) -> JSONValue {
            ACPPermissions.outcome(decision.map { DecisionAnswer(id: "acp-1-0", decision: $0) }, options: options)
        }
        #expect(outcome("allow") == ACPPermissions.selected("allow_once"))
        #expect(outcome("allow_session") == ACPPermissions.selected("allow_always"))
        #expect(outcome("deny") == ACPPermissions.selected("reject_once"))
        #expect(outcome(nil) == Self.params(#"{"outcome":{"outcome":"cancelled"}}"#))
    }

    @Test("$/cancel_request for a permission request withdraws it with reason agent; the agent is answered cancelled")
    func cancelRequest() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = try ACPFileAccess(root: dir.path)
        let channel = AdapterEventChannel()
        channel.hostAnswersDecisions = true
        let answered = OneShot<JSONValue>()
        let options = ACPPermissions.options(Self.fastAgent)
        let side = ACPClientSide(
            files: files, terminals: ACPTerminals(files: files, environment: [:], stopGrace: .seconds(1)),
            fileSystem: true, terminal: true, channel: channel, process: 1, commandTimeout: .seconds(30),
            withdraw: { id in channel.withdraw("acp-1-\(id.jsonText)", reason: .agent) },
            decider: { id, params in
                let request = ACPPermissions.decisionRequest(id: "acp-1-\(id.jsonText)", params: params, knownKind: nil, root: dir.path)
                return ACPPermissions.outcome(await channel.ask(request), options: options)
            },
            respond: { _, result in if case .success(let value) = result { answered.set(value) } }
        )
        let events = Recorder<AdapterEvent>()
        let pump = Task { for await event in channel.events { events.append(event) } }
        defer { pump.cancel() }
        side.handle(id: .int(7), method: "session/request_permission", params: Self.fastAgent)
        // The request reaches the host before the agent takes it back.
        try await events.wait(within: .seconds(15)) { $0.contains { if case .decisionRequested(let r) = $0 { r.id == "acp-1-7" } else { false } } }
        side.cancel(.int(7))
        let all = try await events.wait(within: .seconds(15)) { $0.contains { if case .decisionWithdrawn = $0 { true } else { false } } }
        let withdrawals = all.compactMap { if case .decisionWithdrawn(let id, let reason) = $0 { "\(id) \(reason.rawValue)" } else { nil } }
        #expect(withdrawals == ["acp-1-7 agent"])
        #expect(await answered.wait(within: .seconds(15)) == Self.params(#"{"outcome":{"outcome":"cancelled"}}"#))
        await side.close()
        channel.finish()
    }

    @Test("Agent-specific ids, two options of one kind, and missing kinds")
    func otherAgents() {
        let params = Self.params(#"""
            {"toolCall":{"toolCallId":"t","title":"Edit a.txt","kind":"edit","rawInput":{"path":"src/../a.txt"}},
             "options":[{"optionId":"approve","name":"Yes","kind":"allow_always"},{"optionId":"approve-2","name":"Yes too","kind":"allow_always"},
                        {"optionId":"no","name":"No","kind":"reject_always"}]}
            """#)
        let request = ACPPermissions.decisionRequest(id: "x", params: params, knownKind: nil, root: "/srv/p")
        // No allow_once: "allow" is not offered (it would remember more than asked).
        #expect(request.options == ["allow_session", "deny"])
        #expect(request.subject == "/srv/p/a.txt" && request.summary == "Edit a.txt: /srv/p/a.txt")
        let options = ACPPermissions.options(params)
        #expect(ACPPermissions.outcome(DecisionAnswer(id: "x", decision: "allow_session"), options: options) == ACPPermissions.selected("approve"))
        #expect(ACPPermissions.outcome(DecisionAnswer(id: "x", decision: "deny"), options: options) == ACPPermissions.selected("no"))
        // A deny the agent has no option for goes back cancelled.
        let noReject = ACPPermissions.options(Self.params(#"{"options":[{"optionId":"ok","name":"OK","kind":"allow_once"}]}"#))
        #expect(ACPPermissions.outcome(DecisionAnswer(id: "x", decision: "deny"), options: noReject) == Self.params(#"{"outcome":{"outcome":"cancelled"}}"#))
        // The kind of a known call is used when the request omits it.
        let bare = ACPPermissions.decisionRequest(id: "y", params: Self.params(#"{"toolCall":{"toolCallId":"t","rawInput":{"command":"ls"}},"options":[]}"#), knownKind: "execute", root: "/")
        #expect(bare.toolName == "execute" && bare.subject == "ls" && bare.options == ["deny"])
    }
}

@Suite("ACP file access")
struct ACPFileAccessTests {
    static func error(_ body: () throws(ACPClientError) -> Void) -> ACPClientError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test("Paths are resolved against the project; anything outside, also through a link, is refused")
    func confinement() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let project = dir.path + "/project"
        try FileManager.default.createDirectory(atPath: project + "/src", withIntermediateDirectories: true)
        try "secret".write(toFile: dir.path + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: project + "/escape", withDestinationPath: dir.path)
        let files = try ACPFileAccess(root: project)
        let real = files.realRoot
        #expect(try files.resolve("src/a.txt") == real + "/src/a.txt")
        #expect(try files.resolve("./src/../b.txt") == real + "/b.txt")
        #expect(try files.resolve(project + "/new/dir/c.txt") == real + "/new/dir/c.txt")
        #expect(try files.resolve(project) == real)
        for outside in ["../secret.txt", dir.path + "/secret.txt", "/etc/passwd", "escape/secret.txt", "escape", "src/../../secret.txt", ""] {
            let refusal = Self.error { () throws(ACPClientError) in _ = try files.resolve(outside) }
            #expect(refusal?.code == -32602, "\(outside) was not refused")
        }
        #expect(Self.error { () throws(ACPClientError) in _ = try files.read("../secret.txt", line: nil, limit: nil) }?.message
                == "Switchboard refused access to '../secret.txt': it is outside the session's project directory '\(project)'.")
        #expect(Self.error { () throws(ACPClientError) in try files.write("escape/x.txt", content: "no") } != nil)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/x.txt"))
    }

    @Test("Reads: missing files are -32002, line and limit select lines; writes create directories")
    func readsAndWrites() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let files = try ACPFileAccess(root: dir.path)
        #expect(Self.error { () throws(ACPClientError) in _ = try files.read("missing.txt", line: nil, limit: nil) } == .notFound("missing.txt"))
        try files.write("a/b/notes.txt", content: "one\ntwo\nthree\n")
        #expect(try String(contentsOfFile: dir.path + "/a/b/notes.txt", encoding: .utf8) == "one\ntwo\nthree\n")
        #expect(try files.read("a/b/notes.txt", line: nil, limit: nil) == "one\ntwo\nthree\n")
        #expect(try files.read("a/b/notes.txt", line: 2, limit: 1) == "two")
        #expect(try files.read("a/b/notes.txt", line: 9, limit: 1) == "")
        // A directory is not a file to write.
        #expect(Self.error { () throws(ACPClientError) in try files.write("a", content: "x") }?.code == -32602)
    }
}

@Suite("ACP terminals")
struct ACPTerminalsTests {
    static func terminals(_ root: String) throws -> ACPTerminals {
        ACPTerminals(files: try ACPFileAccess(root: root), environment: ProcessLaunch.currentEnvironment(), stopGrace: .seconds(2))
    }

    static func params(_ object: [String: JSONValue]) -> JSONValue { .object(object) }

    @Test("Output keeps the last bytes of the limit at a character boundary")
    func truncation() {
        let output = ACPTerminals.Output(limit: 8)
        for line in ["héllo", "wörld"] {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBufferPointer { output.append(.text(UnsafeBufferPointer($0))) }
        }
        let (text, truncated) = output.snapshot
        #expect(truncated)
        #expect(text.utf8.count <= 8 && "héllo\nwörld\n".hasSuffix(text), "\(text)")
        #expect(!text.contains("\u{FFFD}"))
    }

    @Test("A command runs in the project by default, with stderr in its output; its exit is reported")
    func runs() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/sub", withIntermediateDirectories: true)
        let terminals = try Self.terminals(dir.path)
        let a = try await terminals.create(Self.params([
            "command": .string("/bin/sh"), "args": .array([.string("-c"), .string("pwd; echo oops >&2; exit 3")]),
        ]))
        let exit = await a.process.waitForExit()
        #expect(exit.status == .exited(3))
        let real = try #require(ACPFileAccess.realPath(dir.path))
        #expect(terminals.output(a)["output"] == .string("\(real)\noops\n"))
        #expect(terminals.output(a)["exitStatus"] == .object(["exitCode": .int(3), "signal": .null]))
        // A whole shell line without args, a relative cwd, and the request's env.
        let b = try await terminals.create(Self.params([
            "command": .string("echo $GREETING from $(basename \"$PWD\")"), "cwd": .string("sub"),
            "env": .array([.object(["name": .string("GREETING"), "value": .string("hi")])]),
        ]))
        _ = await b.process.waitForExit()
        #expect(b.snapshot.text == "hi from sub\n")
        // A cwd outside the project is refused.
        do {
            _ = try await terminals.create(Self.params(["command": .string("pwd"), "cwd": .string("/tmp")]))
            Issue.record("a cwd outside the project was accepted")
        } catch {
            #expect(error.message.contains("outside the session's project directory"))
        }
        await terminals.release(a)
        #expect(terminals.count == 1)
        await terminals.closeAll()
    }

    @Test("Kill stops a running command's group; closeAll leaves nothing and refuses new commands")
    func killAndClose() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let terminals = try Self.terminals(dir.path)
        let long = try await terminals.create(Self.params(["command": .string("sleep 61.25 & sleep 61.5; wait")]))
        let other = try await terminals.create(Self.params(["command": .string("sleep"), "args": .array([.string("61.75")])]))
        await terminals.kill(long)
        #expect(long.process.exitStatus != nil)
        #expect(ProcessTable.descendants().entries.values.filter { $0.commandLine.contains("sleep 61.") && $0.state != "Z" }.count == 1)
        await terminals.closeAll()
        #expect(other.process.exitStatus != nil)
        #expect(ProcessTable.descendants().entries.values.filter { $0.commandLine.contains("sleep 61.") && $0.state != "Z" }.isEmpty)
        do {
            _ = try await terminals.create(Self.params(["command": .string("true")]))
            Issue.record("a command started after closeAll")
        } catch {
            #expect(error.code == -32603)
        }
    }
}

@Suite("ACP connection")
struct ACPConnectionTests {
    @Test("Messages are routed by shape: requests with id 0, notifications, responses, errors with their data")
    func classify() throws {
        func kind(_ json: String) throws -> String {
            let object = try #require(try JSONValue(parsing: json).objectValue)
            switch ACPConnection.classify(object) {
            case .incoming(.request(let id, let method, _))?: return "request \(id.jsonText) \(method)"
            case .incoming(.notification(let method, _))?: return "notification \(method)"
            case .response(let id, .success(let result))?: return "response \(id) \(result.jsonText)"
            case .response(let id, .failure(let error))?: return "error \(id) \(error.code ?? 0) \(error.message)"
            case nil: return "none"
            }
        }
        #expect(try kind(#"{"jsonrpc":"2.0","id":0,"method":"session/request_permission","params":{}}"#) == "request 0 session/request_permission")
        #expect(try kind(#"{"jsonrpc":"2.0","method":"session/update","params":{}}"#) == "notification session/update")
        #expect(try kind(#"{"jsonrpc":"2.0","id":0,"result":{}}"#) == "response 0 {}")
        #expect(try kind(#"{"jsonrpc":"2.0","id":2,"result":null}"#) == "response 2 null")
        #expect(try kind(#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Internal error","data":{"details":"Error code: 400"}}}"#)
                == "error 2 -32603 Internal error: Error code: 400")
        #expect(try kind(#"{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"Authentication required"}}"#) == "error 3 -32000 Authentication required")
        #expect(try kind(#"{"jsonrpc":"2.0","id":"x","result":{}}"#) == "none")
        #expect(try kind(#"{"jsonrpc":"2.0","id":4}"#) == "none")
    }
}
