import SwitchboardAdapterAPI
import SwitchboardCore
import Synchronization

extension ConformanceRunner {
    // MARK: malformedSettings

    func malformedSettings() async throws -> String {
        guard !inputs.malformedSettings.isEmpty else {
            throw CheckFailure("No malformed settings were given (ConformanceInputs.malformedSettings is empty).")
        }
        var problems: [String] = []
        var examples: [String] = []
        for settings in inputs.malformedSettings {
            do {
                let adapter = try factory(settings)
                // In a helper process the plugin's `create` runs at start: the refusal comes there.
                if adapter is IsolatedPluginAdapter {
                    do {
                        try await Deadline.run("start", within: inputs.callTimeout) { try await adapter.start(self.inputs.startOptions) }
                    } catch {
                        _ = try? await Deadline.run("dispose", within: inputs.callTimeout) { await adapter.dispose() }
                        throw error
                    }
                }
                _ = try? await Deadline.run("dispose", within: inputs.callTimeout) { await adapter.dispose() }
                problems.append("settings \(settings.jsonText) were accepted")
            } catch let error as AdapterError {
                if error.code != .invalidSettings {
                    problems.append("settings \(settings.jsonText) were refused with code \(error.code), not invalidSettings: \(error.message)")
                } else if !error.message.lowercased().contains("settings") {
                    problems.append("settings \(settings.jsonText) were refused with a message that does not name the settings: \(error.message)")
                } else {
                    examples.append("\(settings.jsonText) → \"\(Self.shorten(error.message, to: 160))\"")
                }
            } catch {
                problems.append("settings \(settings.jsonText) were refused with \(type(of: error)), not AdapterError(.invalidSettings): \(error)")
            }
        }
        guard problems.isEmpty else { throw CheckFailure(problems.joined(separator: "; ") + ".") }
        return "Refused all \(examples.count) malformed settings at create: \(examples.joined(separator: "; "))."
    }

    // MARK: turnEnds

    func turnEnds() async throws -> String {
        try await withAdapter(inputs.settings) { subject in
            let first = try await turn(subject, inputs.prompt)
            let second = try await turn(subject, inputs.prompt)
            return "The first turn ended in \(first.summary), the second in \(second.summary); the adapter's status agreed with the last event each time."
        }
    }

    // MARK: oneTurnAtATime

    func oneTurnAtATime() async throws -> String {
        try await withAdapter(longTurnSettings) { subject in
            let mark = try await beginLongTurn(subject)
            let adapter = subject.adapter
            guard let refusal = try await outcome(of: "a second sendMessage", { try await adapter.sendMessage("A second message while a turn runs.") }) else {
                throw CheckFailure("A second message was accepted while a turn was running.")
            }
            if !isPlugin {
                guard let error = refusal as? AdapterError, error.code == .invalidState else {
                    throw CheckFailure("A second message was refused, but with \(Self.describe(refusal)) instead of AdapterError(.invalidState).")
                }
            }
            let afterRefusal = subject.log.events
            if let end = Self.turnBounds(in: afterRefusal, after: mark).end {
                throw CheckFailure("After the second message was refused, the running turn ended (\(Self.describe([afterRefusal[end]]))): the refusal must leave it running.")
            }
            let status = await adapter.status
            guard status == .running else {
                throw CheckFailure("After the second message was refused, the adapter's status is '\(status.rawValue)', not 'running'.")
            }
            try await call("interrupt") { try await adapter.interrupt() }
            let end = try await waitForTurnEnd(subject, after: mark, allowInterrupted: true, context: "After interrupt")
            guard end.status == .interrupted else {
                throw CheckFailure("The turn ended in \(end.summary) instead of status interrupted when it was interrupted after the refusal.")
            }
            return "A second message during a turn was refused (\"\(Self.shorten(Self.describe(refusal)))\"); the turn kept running (status running, no end reported) and was then interrupted."
        }
    }

    // MARK: interrupt

    func interrupt() async throws -> String {
        try await withAdapter(longTurnSettings) { subject in
            let adapter = subject.adapter
            // With no turn running, interrupt does nothing.
            let before = await adapter.status
            let idleMark = subject.log.events.count
            try await call("interrupt with no turn running") { try await adapter.interrupt() }
            let afterIdle = await adapter.status
            let interruptedWhileIdle = subject.log.events.dropFirst(idleMark).contains {
                if case .status(.interrupted, _) = $0 { true } else { false }
            }
            guard afterIdle == before, !interruptedWhileIdle else {
                throw CheckFailure("Interrupt with no turn running changed the status from '\(before.rawValue)' to '\(afterIdle.rawValue)'\(interruptedWhileIdle ? " and reported 'interrupted'" : "").")
            }
            // A running turn ends in interrupted.
            let mark = try await beginLongTurn(subject)
            let clock = ContinuousClock()
            let asked = clock.now
            try await call("interrupt") { try await adapter.interrupt() }
            let end = try await waitForTurnEnd(subject, after: mark, allowInterrupted: true, context: "After interrupt")
            let took = clock.now - asked
            guard end.status == .interrupted else {
                throw CheckFailure("After interrupt the turn ended in \(end.summary), not with status interrupted.")
            }
            // The next turn works.
            let next = try await turn(subject, inputs.prompt)
            return "Interrupt with no turn running changed nothing; a running turn ended with status interrupted \(Self.milliseconds(took)) ms after interrupt; the next turn ended in \(next.summary)."
        }
    }

    // MARK: setModel

    func setModel() async throws -> String {
        try await withAdapter(inputs.settings) { subject in
            let adapter = subject.adapter
            var seen: [String] = []
            for model in [inputs.models.0, inputs.models.1] {
                try await call("setModel(\"\(model)\")") { try await adapter.setModel(model) }
                let end = try await turn(subject, inputs.prompt)
                guard let observe = inputs.modelObserver else { continue }
                guard let used = observe(end.events) else {
                    throw CheckFailure("After setModel(\"\(model)\") the turn ended in \(end.summary), but the model observer could not tell which model it used. Events: \(Self.describe(end.events)).")
                }
                guard used == model else {
                    throw CheckFailure("After setModel(\"\(model)\") the next turn used '\(used)'.")
                }
                seen.append(used)
            }
            if inputs.modelObserver == nil {
                return "setModel was accepted twice and each next turn completed. Not verified: which model a turn used (give ConformanceInputs.modelObserver to check it)."
            }
            return "Each model set applied to the next turn: \(seen.map { "'\($0)'" }.joined(separator: " then "))."
        }
    }

    // MARK: agentSessionId

    func agentSessionId() async throws -> String {
        var verified: [String] = []
        try await withAdapter(inputs.settings) { subject in
            _ = try await turn(subject, inputs.prompt)
            let events = subject.log.events
            var reported: String?
            for case .status(let status, let id) in events {
                if let id {
                    reported = id
                } else if let known = reported {
                    throw CheckFailure("A status event ('\(status.rawValue)') carried no agent session id after '\(known)' had been reported; once known, every status event carries it.")
                }
            }
            let property = await subject.adapter.agentSessionId
            guard property == reported else {
                throw CheckFailure("The adapter's agentSessionId is \(property.map { "'\($0)'" } ?? "nil") but the status events reported \(reported.map { "'\($0)'" } ?? "none").")
            }
            if let reported {
                verified.append("after start and a turn, '\(reported)' was reported with status events and agentSessionId agrees")
            } else if inputs.expectsAgentSessionId {
                throw CheckFailure("No agent session id was reported after start and one turn (set ConformanceInputs.expectsAgentSessionId to false for an agent that has none).")
            } else {
                verified.append("no agent session id was reported, as expected (expectsAgentSessionId is false), and agentSessionId is nil")
            }
        }
        if let resume = inputs.resumeAgentSessionId {
            var options = inputs.startOptions
            options.agentSessionId = resume
            try await withAdapter(inputs.settings, startOptions: options) { subject in
                do {
                    try await subject.log.wait(within: inputs.callTimeout) { events in
                        events.contains { if case .status(_, let id) = $0 { id == resume } else { false } }
                    }
                } catch {
                    throw CheckFailure("Started to resume '\(resume)', the adapter reported no status event carrying it within \(inputs.callTimeout). Events: \(Self.describe(subject.log.events)).")
                }
                let property = await subject.adapter.agentSessionId
                guard property == resume else {
                    throw CheckFailure("Started to resume '\(resume)', the adapter's agentSessionId is \(property.map { "'\($0)'" } ?? "nil").")
                }
                verified.append("started to resume '\(resume)', it reported that id")
            }
        } else {
            verified.append("resuming was not exercised (no ConformanceInputs.resumeAgentSessionId)")
        }
        return verified.joined(separator: "; ").capitalizedFirst + "."
    }

    // MARK: errorsAreEvents

    func errorsAreEvents() async throws -> String {
        var verified: [String] = []
        var notExercised: [String] = []
        if let failing = inputs.failingTurn {
            try await withAdapter(failing.settings ?? inputs.settings) { subject in
                let end = try await turn(subject, failing.prompt)
                guard end.status == .error else {
                    throw CheckFailure("The failing turn ended in \(end.summary), not in an error.")
                }
                let next = try await turn(subject, inputs.prompt)
                verified.append("a failing turn ended in an error event (\"\(Self.shorten(end.errorText ?? ""))\") with status error, and the next turn ended in \(next.summary)")
            }
        } else {
            notExercised.append("an error during a turn (no ConformanceInputs.failingTurn)")
        }
        if let settings = inputs.failingStartSettings {
            let adapter = try make(settings)
            let subject = Subject(adapter: adapter, log: AdapterEventLog(adapter))
            let options = inputs.startOptions
            let error = try await outcome(of: "start") { try await adapter.start(options) }
            await cleanUp(subject)
            guard let error else {
                throw CheckFailure("start succeeded with ConformanceInputs.failingStartSettings \(settings.jsonText); it should throw.")
            }
            let text = Self.describe(error)
            guard !text.isEmpty else { throw CheckFailure("start failed with an empty message.") }
            verified.append("a failed start threw \"\(Self.shorten(text))\"")
        } else {
            notExercised.append("a failed start (no ConformanceInputs.failingStartSettings)")
        }
        verified.append(try await probes())
        var message = verified.joined(separator: "; ").capitalizedFirst + "."
        if !notExercised.isEmpty { message += " Not exercised: " + notExercised.joined(separator: "; ") + "." }
        return message
    }

    /// Unusual calls every adapter must survive: each returns or throws in time, and a turn
    /// it accepts ends.
    private func probes() async throws -> String {
        let adapter = try make(inputs.settings)
        let subject = Subject(adapter: adapter, log: AdapterEventLog(adapter))
        defer { subject.log.stop() }
        let options = inputs.startOptions
        let startError = try await outcome(of: "start") { try await adapter.start(options) }
        var handled: [String] = []
        do {
            _ = try await outcome(of: "interrupt with no turn running") { try await adapter.interrupt() }
            handled.append("interrupt with no turn running")
            _ = try await outcome(of: "setModel(\"\")") { try await adapter.setModel("") }
            handled.append("an empty model name")
            let texts = ["", "Quotes \" and \\ backslashes,\nnew lines,\ttabs, a NUL \u{0} and emoji 🧪 — 日本語"]
            for (index, text) in texts.enumerated() {
                let mark = subject.log.events.count
                if try await outcome(of: "sendMessage", { try await adapter.sendMessage(text) }) == nil {
                    _ = try await waitForTurnEnd(subject, after: mark)
                }
                handled.append(index == 0 ? "an empty message" : "a message with quotes, control characters, NUL and non-ASCII text")
            }
        } catch {
            await cleanUp(subject)
            throw error
        }
        await cleanUp(subject)
        let on = startError.map { "on an adapter whose start failed (\(Self.shorten(Self.describe($0), to: 60))), " } ?? ""
        return "\(on)\(handled.joined(separator: ", ")) each returned or threw in time, and every turn accepted ended"
    }

    // MARK: dispose

    func dispose() async throws -> String {
        let before = ProcessTable.descendants()
        let adapter = try make(longTurnSettings)
        let log = AdapterEventLog(adapter)
        defer { log.stop() }
        let subject = Subject(adapter: adapter, log: log)
        let options = inputs.startOptions
        var when: String
        if let startError = try await outcome(of: "start", { try await adapter.start(options) }) {
            when = "after a failed start (\(Self.shorten(Self.describe(startError), to: 60)))"
        } else if inputs.longTurn != nil {
            do {
                _ = try await beginLongTurn(subject)
            } catch {
                await cleanUp(subject)
                throw error
            }
            when = "during a running turn"
        } else {
            do {
                _ = try await turn(subject, inputs.prompt)
            } catch {
                await cleanUp(subject)
                throw error
            }
            when = "after a turn (no ConformanceInputs.longTurn, so not during one)"
        }
        let during = ProcessTable.descendants()
        try await call("dispose") { await adapter.dispose() }
        let after = ProcessTable.descendants()
        do {
            try await log.waitUntilFinished(within: inputs.callTimeout)
        } catch {
            throw CheckFailure("After dispose returned, the event stream did not finish within \(inputs.callTimeout).")
        }
        let tools = ChildProcess.running.withLock { $0 }
        let toolPIDs = during.subtrees(of: tools).union(after.subtrees(of: tools))
        let started = (during.subtracting(before) + after.subtracting(before)).filter { !toolPIDs.contains($0.pid) }
        var unique: [Int32: ProcessTable.Entry] = [:]
        for entry in started { unique[entry.pid] = entry }
        let leftovers = unique.values.filter { ProcessTable.isAlive($0) }.sorted { $0.pid < $1.pid }
        guard leftovers.isEmpty else {
            throw CheckFailure("After dispose returned, \(leftovers.count) process(es) started while the adapter ran are still there: \(leftovers.map(\.description).joined(separator: "; ")).")
        }
        let count = log.events.count
        guard let refusal = try await outcome(of: "sendMessage after dispose", { try await adapter.sendMessage("After dispose.") }) else {
            throw CheckFailure("sendMessage after dispose was accepted.")
        }
        try await call("a second dispose") { await adapter.dispose() }
        guard log.events.count == count else {
            throw CheckFailure("Events arrived after dispose: \(Self.describe(Array(log.events.dropFirst(count)))).")
        }
        let seen = unique.count
        return "Disposed \(when): the event stream finished, no process was left (\(seen) started while it ran, all reaped), a message afterwards was refused (\"\(Self.shorten(Self.describe(refusal)))\"), and a second dispose was harmless."
    }
}

extension String {
    fileprivate var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
