import Foundation
import Testing
import SwitchboardCore
import SwitchboardSQLite
import SwitchboardTesting

/// The SQLite store shared by several processes, and processes killed mid-write.
@Suite("Session store across processes", .childProcessGate)
struct SessionStoreProcessTests {
    static let deadline: Duration = .seconds(60)

    /// Checks that `prefix-i` is present and, when `linked`, linked, for each index.
    func expectRecords(_ store: SQLiteSessionStore, prefix: String, indexes: some Sequence<Int>, linked: Bool) async throws {
        var missing: [String] = []
        var wrong: [String] = []
        for i in indexes {
            let id = "\(prefix)-\(i)"
            guard let r = try await store.get(id) else { missing.append(id); continue }
            let ok = r.workspaceName == "stress-\(prefix)" && r.agentType == "stress" && r.projectPath == "/work/\(prefix)"
                && (!linked || (r.agentSessionId == "agent-\(id)" && r.lastActivity == r.createdAt + 1))
            if !ok { wrong.append("\(r)") }
        }
        #expect(missing.isEmpty, "missing: \(missing.prefix(10)) (\(missing.count) in all)")
        #expect(wrong.isEmpty, "not as written: \(wrong.prefix(5))")
    }

    @Test("Two writer processes and this one share a database without losing an update")
    func concurrentWriters() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store-mp")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        let count = 300
        // The children start on a file that does not exist yet: they race to create it.
        let writers = try ["p1", "p2"].map {
            try StressWriter(database: path, prefix: $0, count: count, link: true, scratch: dir)
        }
        // Wait until both are writing, so the writes below overlap theirs.
        for writer in writers {
            try await onOwnThread { try writer.waitForCommits(atLeast: 1, within: Self.deadline) }
        }
        let store = try SQLiteSessionStore(path: path)
        for i in 0..<count {
            let id = "self-\(i)"
            try await store.create(SessionRecord(id: id, workspaceName: "stress-self", agentType: "stress",
                                                 projectPath: "/work/self", createdAt: Int64(i), lastActivity: Int64(i)))
            try await store.linkAgentSession(id, agentSessionId: "agent-\(id)", at: Int64(i) + 1)
        }
        for writer in writers {
            let status = try await onOwnThread { () throws -> Int32 in
                try writer.readToEnd(within: Self.deadline)
                return writer.waitForExit()
            }
            #expect(status == 0, "stderr: \(writer.stderr)")
            #expect(writer.committed == Array(0..<count))
        }

        let reopened = try SQLiteSessionStore(path: path)
        for prefix in ["p1", "p2", "self"] {
            try await expectRecords(reopened, prefix: prefix, indexes: 0..<count, linked: true)
            #expect(try await reopened.list(workspace: "stress-\(prefix)").count == count)
        }
        #expect(try await reopened.list(workspace: nil).count == 3 * count)
        #expect(try await reopened.integrityProblems() == [])
    }

    @Test("A writer killed with SIGKILL mid-write loses no committed record, round after round")
    func killedWriter() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-store-kill")
        defer { dir.remove() }
        let path = dir.path + "/sessions.sqlite"
        var reported: [(prefix: String, indexes: [Int])] = []
        for round in 0..<5 {
            let prefix = "round\(round)"
            let writer = try StressWriter(database: path, prefix: prefix, count: 1_000_000, link: true, scratch: dir)
            let wanted = 15 + 13 * round
            let signal = try await onOwnThread { () throws -> Int32? in
                try writer.waitForCommits(atLeast: wanted, within: Self.deadline)
                let signal = writer.killAndReap()
                // Lines already in the pipe count too: those commits returned before the kill.
                try writer.readToEnd(within: Self.deadline)
                return signal
            }
            #expect(signal == SIGKILL, "the writer was not killed but ended on its own; stderr: \(writer.stderr)")
            #expect(writer.committed.count >= wanted)
            #expect(writer.committed == Array(0..<writer.committed.count))
            reported.append((prefix, writer.committed))

            let store = try SQLiteSessionStore(path: path)
            #expect(try await store.integrityProblems() == [], "after round \(round)")
            for (prefix, indexes) in reported {
                try await expectRecords(store, prefix: prefix, indexes: indexes, linked: true)
            }
            // At most the record in progress exists beyond what was reported.
            let stored = try await store.list(workspace: "stress-\(prefix)").count
            #expect(stored == writer.committed.count || stored == writer.committed.count + 1)
        }
    }
}
