import Foundation
import NIOHTTP1
import Testing
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// A plugin that crashes, hangs or breaks the ABI costs its own sessions, never the daemon:
/// every fault of the crashy C plugin against a real daemon, while a scripted session
/// streams beside it and `/health` is polled.
@Suite("Crash-contained plugins", .serialized, .childProcessGate)
struct IsolationFaultTests {
    static func agents(crashy: String, isolation: String, marker: String) -> String {
        """
        {"crashy": {"plugin": "\(crashy)", "isolation": "\(isolation)", "callTimeoutSeconds": 2, "settings": {"marker": "\(marker)"}},
         "scripted": {"plugin": "libScriptedAdapter.so", "isolation": "process", "settings": \(Streamer.settings)}}
        """
    }

    @Test("With isolation process every fault ends its session in error; the stream, /health and new sessions carry on")
    func processMode() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-isolation")
        defer { dir.remove() }
        let marker = dir.path + "/late-done"
        let daemon = try await LiveDaemon(agents: Self.agents(crashy: try Crashy.plugin(), isolation: "process", marker: marker))
        let health = HealthWatch(daemon)
        let streamer = try await Streamer(daemon)

        // Faults that end the helper: the session hears which plugin, why, and in which call.
        for (command, cause) in [("segv", "crashed (SIGSEGV)"), ("abort", "crashed (SIGABRT)"), ("exit", "exited with status 3")] {
            let session = try await daemon.startSession("crashy")
            let pidBefore = try await daemon.agent("crashy")?["helperPid"]?.intValue
            try await daemon.say(session, command)
            let error = try await daemon.waitForError(session) { $0.contains("plugin 'crashy'") }
            #expect(error == "plugin 'crashy' \(cause) while handling send_message", "\(command)")
            // The next session starts a fresh helper and works.
            let next = try await daemon.startSession("crashy")
            try await daemon.say(next, "hello")
            try await daemon.waitForReply(next, "echo: hello")
            let pidAfter = try await daemon.agent("crashy")?["helperPid"]?.intValue
            #expect(pidAfter != nil && pidAfter != pidBefore, "\(command): a new helper")
        }

        // Faults the host contains without losing the helper.
        for (command, expected) in [
            ("nocompletion", "sent no outcome for send_message within 2 s"),
            ("malformed", "sent an invalid event"),
            ("flood", "while another event was being delivered"),
        ] {
            let session = try await daemon.startSession("crashy")
            try await daemon.say(session, command)
            try await daemon.waitForError(session) { $0.contains(expected) }
        }

        // A call that never returns fails its request; the second such call kills the helper,
        // and both sessions hear why.
        let spinA = try await daemon.startSession("crashy")
        try await daemon.say(spinA, "spin")
        try await daemon.waitForError(spinA) { $0.contains("did not return from send_message within 2 s") }
        let spinB = try await daemon.startSession("crashy")
        try await daemon.say(spinB, "spin")
        try await daemon.waitForError(spinB) { $0.contains("stopped answering and was killed") }

        // Callbacks after destroy are dropped; the daemon never touches freed memory.
        let late = try await daemon.startSession("crashy")
        try await daemon.say(late, "late")
        try await daemon.waitForReply(late, "late armed")
        #expect(try await daemon.http(.DELETE, "/v1/sessions/\(late)").status < 300)
        try await eventually("the late callbacks to end") { FileManager.default.fileExists(atPath: marker) }

        let after = try await daemon.startSession("crashy")
        try await daemon.say(after, "still here")
        try await daemon.waitForReply(after, "echo: still here")
        let crashy = try #require(try await daemon.agent("crashy"))
        #expect(crashy["isolation"] == .string("process"))
        #expect((crashy["restarts"]?.intValue ?? 0) >= 4, "\(crashy.jsonText)")

        let stream = try await streamer.stop()
        #expect(stream.turns > 0)
        #expect(stream.problems.isEmpty, "\(stream.problems)")
        let watch = await health.stop()
        #expect(watch.checks > 0)
        #expect(watch.failures.isEmpty, "\(watch.failures)")
        #expect(try await daemon.stop() == 0, "\(daemon.process.stderr)")
    }

    @Test("With isolation inline the containable faults (flood, late events, malformed JSON, missing completion) are contained")
    func inlineMode() async throws {
        let dir = try TemporaryDirectory(prefix: "switchboard-isolation")
        defer { dir.remove() }
        let marker = dir.path + "/late-done"
        let daemon = try await LiveDaemon(agents: Self.agents(crashy: try Crashy.plugin(), isolation: "inline", marker: marker))
        let health = HealthWatch(daemon)
        let streamer = try await Streamer(daemon)
        for (command, expected) in [
            ("nocompletion", "sent no outcome for send_message within 2 s"),
            ("malformed", "sent an invalid event"),
            ("flood", "while another event was being delivered"),
        ] {
            let session = try await daemon.startSession("crashy")
            try await daemon.say(session, command)
            try await daemon.waitForError(session) { $0.contains(expected) }
            // The flood's threads use the adapter until the turn ends: stopping the daemon
            // before would free it under them (a fault no inline plugin can be saved from).
            if command == "flood" { try await daemon.waitForReply(session, "flooded", within: .seconds(60)) }
        }
        let late = try await daemon.startSession("crashy")
        try await daemon.say(late, "late")
        try await daemon.waitForReply(late, "late armed")
        #expect(try await daemon.http(.DELETE, "/v1/sessions/\(late)").status < 300)
        try await eventually("the late callbacks to end") { FileManager.default.fileExists(atPath: marker) }

        let after = try await daemon.startSession("crashy")
        try await daemon.say(after, "still here")
        try await daemon.waitForReply(after, "echo: still here")
        #expect(try await daemon.agent("crashy")?["isolation"] == .string("inline"))
        let stream = try await streamer.stop()
        #expect(stream.problems.isEmpty, "\(stream.problems)")
        let watch = await health.stop()
        #expect(watch.failures.isEmpty, "\(watch.failures)")
        #expect(try await daemon.stop() == 0, "\(daemon.process.stderr)")
        #expect(daemon.process.stderr.contains("plugin callback after destroy"), "the dropped callbacks are logged")
    }
}
