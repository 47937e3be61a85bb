import Foundation
import SwitchboardAdapterAPI
import SwitchboardCore

/// Isolation `inline` vs `process` with the scripted plugin: one event crossing (a turn of
/// many messages, per message, plugin encode to host decode), and a session start (make the
/// adapter and start it), the first one in a helper (which starts the helper) apart.
func runIsolationBenchmarks(quick: Bool, pluginDirectory: String) async throws {
    print("\n== Isolation: inline vs process (scripted plugin) ==")
    let path = pluginDirectory + "/libScriptedAdapter.so"
    let helper = pluginDirectory + "/switchboard-plugin-host"
    let events = quick ? 500 : 5000
    let messages = (0..<events).map { #"{"type":"assistant","content":"event \#($0) of the benchmark turn"}"# }.joined(separator: ",")
    let settings = try JSONValue(parsing: #"{"turns":[{"messages":[\#(messages)]}],"loop":true}"#)
    let inlinePlugin = try PluginLoader.load(path)
    let probed = try PluginProbe.probe(path, executable: helper)
    let isolation = PluginIsolation(agentType: probed.agentType, pluginPath: path, executable: helper)

    func makeAdapter(_ mode: PluginIsolationMode, _ settings: JSONValue) throws -> any AgentAdapter {
        switch mode {
        case .inline: try PluginAdapter(plugin: inlinePlugin, settings: settings)
        case .process: IsolatedPluginAdapter(isolation: isolation, settings: settings)
        }
    }

    // Cold start: the first session of a type in process mode starts its helper.
    let cold = ContinuousClock.now
    let first = try makeAdapter(.process, .object([:]))
    try await first.start(StartOptions(workspaceName: "w"))
    let coldStart = ContinuousClock.now - cold
    await first.dispose()

    var results: [PluginIsolationMode: (crossing: Double, start: Double)] = [:]
    for mode in PluginIsolationMode.allCases {
        // Session start, warm.
        var starts: [Double] = []
        for _ in 0..<(quick ? 10 : 50) {
            let begin = ContinuousClock.now
            let adapter = try makeAdapter(mode, .object([:]))
            try await adapter.start(StartOptions(workspaceName: "w"))
            let took = ContinuousClock.now - begin
            starts.append(Double(took.components.seconds) * 1e9 + Double(took.components.attoseconds) / 1e9)
            await adapter.dispose()
        }
        // Event crossing: a turn of `events` messages, consumed as the session manager would.
        let adapter = try makeAdapter(mode, settings)
        try await adapter.start(StartOptions(workspaceName: "w"))
        var perEvent: [Double] = []
        var iterator = adapter.events.makeAsyncIterator()
        for _ in 0..<(quick ? 3 : 7) {
            let begin = ContinuousClock.now
            try await adapter.sendMessage("go")
            var seen = 0
            while let event = await iterator.next() {
                if case .message(let message) = event {
                    if message.type == .assistant { seen += 1 }
                    if message.type == .done { break }
                }
            }
            let took = ContinuousClock.now - begin
            perEvent.append((Double(took.components.seconds) * 1e9 + Double(took.components.attoseconds) / 1e9) / Double(max(seen, 1)))
        }
        await adapter.dispose()
        results[mode] = (median(perEvent), median(starts))
    }
    for mode in PluginIsolationMode.allCases {
        guard let r = results[mode] else { continue }
        print("\(mode.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) event crossing \(formatNs(r.crossing)) per event (turns of \(events)); session start \(formatNs(r.start)) (median, warm)")
    }
    print("process  first session start (starts the helper): \(formatNs(Double(coldStart.components.seconds) * 1e9 + Double(coldStart.components.attoseconds) / 1e9))")
    if let p = results[.process] {
        let verdict = p.crossing < 20_000 && p.start < 5_000_000 ? "process" : "inline"
        print("rule (process if a crossing < 20 µs and a start < 5 ms): \(verdict)")
    }
    await isolation.shutDown()
}
