// Switchboard's benchmarks. Run in release:
//
//     swift run -c release switchboard-benchmarks --help
//     swift run -c release switchboard-benchmarks [--quick] [--only NAME[,NAME…]] [--plugin-dir DIR]
//
// Prints figures and ratios against baselines measured in the same process; asserts nothing.

import CSwitchboardABI
import Foundation
import SwitchboardAdapterAPI
import SwitchboardCore

// MARK: - Helpers

func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func formatNs(_ ns: Double) -> String {
    ns >= 1_000_000 ? String(format: "%.2f ms", ns / 1e6) : ns >= 1_000 ? String(format: "%.2f µs", ns / 1e3) : String(format: "%.0f ns", ns)
}

/// Runs `body` `batch` times per sample and returns the median cost of one call.
func perCall(samples: Int, batch: Int, _ body: () -> Void) -> Double {
    for _ in 0..<batch { body() }  // warm up
    var results: [Double] = []
    for _ in 0..<samples {
        results.append(nanoseconds { for _ in 0..<batch { body() } } / Double(batch))
    }
    return median(results)
}

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let pluginDirectory: String = {
    if let i = arguments.firstIndex(of: "--plugin-dir"), i + 1 < arguments.count { return arguments[i + 1] }
    return FilePaths.executableDirectory()
}()

/// The parts of the benchmark, in the order a full run prints them. `--only` names them.
let benchmarkParts: [(name: String, summary: String, inFullRun: Bool)] = [
    ("crossing", "1. one event crossing the C ABI (codec + call vs a direct call vs Codable)", true),
    ("load", "2. plugin load time (dlopen + checks), Swift and C plugins", true),
    ("plugin-turn", "3. a scripted turn through libScriptedAdapter.so", true),
    ("fanout", "4. session manager fan-out to 1/10/100/1000 clients, against a plain loop", true),
    ("replay", "4b. replay of a full 1000-frame ring to a connecting client", true),
    ("memory", "5. heap of an idle session", true),
    ("isolation", "5b. plugin isolation: inline vs process", true),
    ("store", "6. the SQLite session store at 1k/10k/100k sessions", true),
    ("websocket", "7. WebSocket delivery through the daemon to clients in another process", true),
    ("history", "8. the event log: appends, a logged turn, resume, history pages", true),
    ("claude", "9. the Claude adapter with the real claude CLI (not in a full run)", false),
    ("codex", "10. the Codex adapter with the real codex CLI (not in a full run)", false),
    ("postgres", "6b. the session store on a private PostgreSQL cluster (not in a full run)", false),
    ("connections", "11. memory over N WebSocket connect/close cycles (--connections N; not in a full run)", false),
    ("cluster", "12. two nodes on one PostgreSQL: a client of the owner vs of another node, and takeover (not in a full run)", false),
]

if arguments.contains("--help") || arguments.contains("-h") {
    print("""
    USAGE: switchboard-benchmarks [--quick] [--only NAME[,NAME…]] [--plugin-dir DIR] [--connections N]

      --quick          fewer samples and smaller loads (minutes instead of a quarter hour)
      --only NAMES     run only these parts (comma-separated); a full run is every part marked *
      --plugin-dir DIR where libScriptedAdapter.so is (default: next to this executable)
      --connections N  the connection churn with N cycles (1…1000000)
      --help           this text

    PARTS
    """)
    for part in benchmarkParts {
        print("  \(part.inFullRun ? "*" : " ") \(part.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(part.summary)")
    }
    exit(0)
}

// The WebSocket benchmark's client: this executable again, in a process of its own.
if let i = arguments.firstIndex(of: "--websocket-client") {
    exit(await runWebSocketClientProcess(Array(arguments[(i + 1)...])))
}

/// The parts to run: `--only`'s, else (with the older one-part flags) that part, else a full run.
let selectedParts: Set<String> = {
    if let i = arguments.firstIndex(of: "--only"), i + 1 < arguments.count {
        return Set(arguments[i + 1].split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    }
    var parts: Set<String> = []
    if arguments.contains("--isolation-only") { parts.insert("isolation") }
    if arguments.contains("--history-only") { parts.insert("history") }
    if arguments.contains("--codex-only") { parts.insert("codex") }
    if arguments.contains("--postgres") { parts.insert("postgres") }
    if arguments.contains("--connections") { parts.insert("connections") }
    if !parts.isEmpty { return parts }
    parts = Set(benchmarkParts.filter(\.inFullRun).map(\.name))
    if arguments.contains("--claude") { parts.insert("claude") }
    if arguments.contains("--codex") { parts.insert("codex") }
    return parts
}()
let unknownParts = selectedParts.subtracting(benchmarkParts.map(\.name))
guard unknownParts.isEmpty else {
    print("switchboard-benchmarks: unknown part(s) \(unknownParts.sorted().joined(separator: ", ")); --help lists them")
    exit(2)
}
func runs(_ part: String) -> Bool { selectedParts.contains(part) }

print("Switchboard benchmarks (\(quick ? "quick" : "full") run): \(benchmarkParts.map(\.name).filter(runs).joined(separator: ", "))")
#if DEBUG
print("WARNING: debug build; run with `swift run -c release switchboard-benchmarks` for real figures")
#endif

// MARK: - 1. One event crossing the boundary

/// A Codable mirror of the message, for the JSONEncoder/JSONDecoder baseline.
struct CodableMessage: Codable {
    var type: String
    var content: String
    var timestamp: String
    var messageId: String?
    var toolName: String?
    var toolId: String?
}
struct CodableEvent: Codable {
    var event: String
    var message: CodableMessage
}

final class Receiver: @unchecked Sendable {
    var last: ChatMessage?
    var count = 0
}
let receiver = Receiver()

/// The host's callback, as the real one: decode the bytes into the Swift value.
let hostCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int) -> Void = { context, json, length in
    guard let context, let json else { return }
    let r = Unmanaged<Receiver>.fromOpaque(context).takeUnretainedValue()
    UnsafeRawPointer(json).withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        if case .message(let m, _)? = try? PluginEvent(jsonBytes: UnsafeBufferPointer(start: bytes, count: length)) {
            r.last = m
            r.count += 1
        }
    }
}
let context = Unmanaged.passUnretained(receiver).toOpaque()

/// The plugin side's work for one event: encode, then call the host through the C pointer.
@MainActor func cross(_ message: ChatMessage) {
    var writer = JSONWriter(capacity: 256)
    PluginEvent.message(message, request: nil).write(to: &writer)
    writer.bytes.withUnsafeBufferPointer { b in
        b.withMemoryRebound(to: CChar.self) { hostCallback(context, $0.baseAddress, $0.count) }
    }
}

let samples = quick ? 11 : 31
let batch = quick ? 2_000 : 20_000
let messageSizes: [(String, ChatMessage)] = [
    ("streamed delta (12 chars)", ChatMessage(type: .assistant, content: "Sure, here's", messageId: "msg_01XFDUDYJgAACzvnptvVoYEL")),
    ("sentence (103 chars)", ChatMessage(type: .assistant, content: "Here is the change you asked for: I renamed `parseConfig` to `loadConfig` and updated the two callers.", messageId: "msg_01XFDUDYJgAACzvnptvVoYEL")),
    ("tool output (2 KB, escapes)", ChatMessage(type: .toolResult, content: String(repeating: "drwxr-xr-x  5 root root 4096 \"Nov 25\" src\n", count: 48), toolId: "toolu_01A")),
]

if arguments.contains("--profile-codec") {
    // For valgrind --tool=callgrind: only the codec, nothing else.
    let index = arguments.contains("--tool-output") ? 2 : arguments.contains("--delta") ? 0 : 1
    for _ in 0..<20_000 { cross(messageSizes[index].1) }
    exit(0)
}

if runs("crossing") {
    print("")
    print("1. One event crossing: the plugin has a ChatMessage -> the host has the Swift value.")
    print("   Median per event over \(samples) samples of \(batch) (Codable: \(batch / 4)); the three ways are")
    print("   measured interleaved, so they see the same machine state.")
    print("")
    print("   message                       direct call   Switchboard codec + C call   JSONEncoder+JSONDecoder   codec vs Codable")
    let encoder = JSONEncoder()
    let decoder = JSONDecoder()
    var worstCrossing = 0.0
    for (name, message) in messageSizes {
        let codableEvent = CodableEvent(event: "message", message: CodableMessage(
            type: message.type.rawValue, content: message.content, timestamp: message.timestamp,
            messageId: message.messageId, toolName: message.toolName, toolId: message.toolId))
        var direct: [Double] = [], crossing: [Double] = [], codable: [Double] = []
        for round in 0...samples {
            let d = perCall(samples: 1, batch: batch) { receiver.last = message; receiver.count += 1 }
            let c = perCall(samples: 1, batch: batch) { cross(message) }
            let j = perCall(samples: 1, batch: batch / 4) {
                if let data = try? encoder.encode(codableEvent), let back = try? decoder.decode(CodableEvent.self, from: data) {
                    receiver.count += back.message.content.isEmpty ? 0 : 1
                }
            }
            if round > 0 { direct.append(d); crossing.append(c); codable.append(j) }  // round 0 warms up
        }
        guard receiver.last == message else {
            print("   ERROR: the crossing did not deliver the same message for \(name)")
            exit(1)
        }
        let (dm, cm, jm) = (median(direct), median(crossing), median(codable))
        worstCrossing = max(worstCrossing, name.hasPrefix("tool") ? 0 : cm)
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        print("   \(pad(name, 30))\(pad(formatNs(dm), 14))\(pad(formatNs(cm) + " (\(String(format: "%.0f", cm / max(dm, 1)))x direct)", 29))\(pad(formatNs(jm), 26))\(String(format: "%.1f", jm / cm))x faster")
    }
    print("")
    print("   target: < 2 µs per chat-message crossing -> \(worstCrossing < 2_000 ? "met" : "NOT met") (slowest of the first two sizes: \(formatNs(worstCrossing)))")
}

// MARK: - 2. Plugin load time

/// Copies `source` to `count` distinct files so each load is a real dlopen.
func copies(of source: String, count: Int, in dir: String) throws -> [String] {
    try (0..<count).map { i in
        let path = "\(dir)/copy\(i)-\(URL(fileURLWithPath: source).lastPathComponent)"
        try FileManager.default.copyItem(atPath: source, toPath: path)
        return path
    }
}

func measureLoads(_ paths: [String]) -> (median: Double, failures: Int) {
    var times: [Double] = []
    var failures = 0
    for path in paths {
        times.append(nanoseconds {
            do { _ = try PluginLoader.load(path) } catch { failures += 1 }
        })
    }
    return (median(times), failures)
}

let scratch = NSTemporaryDirectory() + "switchboard-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

let swiftPlugin = FilePaths.join(pluginDirectory, "libScriptedAdapter.so")
if runs("load") {
    let loads = quick ? 20 : 100
    print("")
    print("2. Plugin load (dlopen + dlsym + entry + descriptor checks), median of \(loads) distinct files")
    if FilePaths.exists(swiftPlugin) {
        let result = measureLoads(try copies(of: swiftPlugin, count: loads, in: scratch))
        print("   Swift plugin (libScriptedAdapter.so)  \(formatNs(result.median))\(result.failures > 0 ? "  (\(result.failures) failed)" : "")")
    } else {
        print("   Swift plugin: not found at \(swiftPlugin) (pass --plugin-dir)")
    }
    let cSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/Examples/CEchoPlugin/echo_plugin.c").path
    let cOutput = scratch + "/libEchoC.so"
    let include = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("CSwitchboardABI/include").path
    let cc = Process()
    cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    cc.arguments = ["cc", "-std=c11", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-I", include, "-o", cOutput, cSource]
    if FilePaths.exists(cSource), (try? cc.run()) != nil {
        cc.waitUntilExit()
        if cc.terminationStatus == 0 {
            let result = measureLoads(try copies(of: cOutput, count: loads, in: scratch))
            print("   C plugin (libEchoC.so)                \(formatNs(result.median))\(result.failures > 0 ? "  (\(result.failures) failed)" : "")")
        } else {
            print("   C plugin: compile failed")
        }
    } else {
        print("   C plugin: source or compiler not found")
    }
}

// MARK: - 3. Events through a real plugin, end to end

if runs("plugin-turn") {
    print("")
    print("3. A scripted turn through libScriptedAdapter.so (adapter events -> SDK -> C -> host stream)")
    if FilePaths.exists(swiftPlugin) {
        let count = quick ? 5_000 : 50_000
        let message = JSONValue.object(["type": .string("assistant"), "content": .string(messageSizes[1].1.content), "messageId": .string("m")])
        let settings = JSONValue.object(["turns": .array([.object(["messages": .array(Array(repeating: message, count: count))])])])
        let plugin = try PluginLoader.load(swiftPlugin)
        let adapter = try PluginAdapter(plugin: plugin, settings: settings)
        try await adapter.start(StartOptions(workspaceName: "bench"))
        let start = ContinuousClock.now
        try await adapter.sendMessage("go")
        var received = 0
        for await event in adapter.events {
            if case .message(let m) = event {
                received += 1
                if m.type == .done { break }
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await adapter.dispose()
        print("   \(received) messages in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(received) / seconds)) messages/s (\(formatNs(seconds * 1e9 / Double(received))) each)")
    }
}

// MARK: - 4, 5. The session manager

if runs("fanout") { try await runFanOutBenchmarks(quick: quick) }
if runs("replay") { try await runReplayBenchmarks(quick: quick) }
if runs("memory") { try await runMemoryBenchmarks(quick: quick, pluginDirectory: pluginDirectory) }
if runs("isolation") { try await runIsolationBenchmarks(quick: quick, pluginDirectory: pluginDirectory) }

// MARK: - 6. The session store

if runs("store") { try await runStoreBenchmarks(quick: quick) }
if runs("postgres") { try await runPostgresStoreBenchmarks(quick: quick) }

// MARK: - 7. The daemon

if runs("websocket") { try await runWebSocketBenchmarks(quick: quick) }

// MARK: - 8. The event log

if runs("history") { try await runHistoryBenchmarks(quick: quick) }

// MARK: - 9, 10. The Claude and Codex adapters (need the real CLIs: bash .ci/setup installs them)

if runs("claude") { try await runClaudeBenchmarks(quick: quick, pluginDirectory: pluginDirectory) }
if runs("codex") { try await runCodexBenchmarks(quick: quick, pluginDirectory: pluginDirectory) }

// MARK: - 11. Connection churn

if runs("connections") {
    var count = 20_000
    if let i = arguments.firstIndex(of: "--connections"), i + 1 < arguments.count {
        guard let n = Int(arguments[i + 1]), (1...1_000_000).contains(n) else {
            print("switchboard-benchmarks: --connections takes a number from 1 to 1000000")
            exit(2)
        }
        count = n
    }
    try await runConnectionChurn(count: count)
}

// MARK: - 12. The cluster

if runs("cluster") { try await runClusterBenchmarks(quick: quick) }
