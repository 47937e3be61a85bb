import Foundation
import SwitchboardAdapterAPI

/// A permission request or question the server lists, as OpenCode keeps it.
struct FakePending: Sendable {
    enum Kind: Sendable { case permission, question }
    var kind: Kind
    var session: String
    /// What `permission.asked` / `permission.updated` / `question.asked` carried.
    var info: JSONValue
    /// The new generation's permission and patterns; the old generation's keys.
    var permission = ""
    var patterns: [String] = []
    var always: [String] = []
    /// Dropped from the list as soon as it was announced, as by a server that stopped
    /// waiting without telling (the fake's `ask forget:` turns); its tool waits on until
    /// the session is aborted.
    var forgotten = false
}

/// How a waiting tool goes on.
enum FakeAnswer: Sendable, Equatable {
    case once, always
    case reject(message: String?)
    case answers([[String]])
    case dismissed
    /// The session was aborted: OpenCode tells nobody, and the tool ends "aborted".
    case aborted
}

extension FakeOpenCodeState {
    /// A tool asks for permission and waits, like OpenCode's `Permission.ask` /
    /// `PermissionNext.ask`. What `always` approved earlier passes without an event.
    func askPermission(_ pending: FakePending) async -> FakeAnswer {
        if covered(pending) { return .once }
        let id = pending.info["id"]?.stringValue ?? ""
        return await wait(for: id, pending) {
            publish(options.version.legacyPermissions ? "permission.updated" : "permission.asked", pending.info.objectValue ?? [:])
        }
    }

    /// The question tool asks and waits.
    func askQuestion(_ pending: FakePending) async -> FakeAnswer {
        let id = pending.info["id"]?.stringValue ?? ""
        return await wait(for: id, pending) { publish("question.asked", pending.info.objectValue ?? [:]) }
    }

    private func wait(for id: String, _ pending: FakePending, announce: () -> Void) async -> FakeAnswer {
        let (stream, continuation) = AsyncStream.makeStream(of: FakeAnswer.self)
        listed[id] = pending
        waiters[id] = (pending.session, continuation)
        announce()
        if pending.forgotten { listed[id] = nil }
        for await answer in stream { return answer }
        return .aborted
    }

    private func resume(_ id: String, _ answer: FakeAnswer) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiter.continuation.yield(answer)
        waiter.continuation.finish()
    }

    /// Whether `always` answers given before cover every pattern of `pending`.
    private func covered(_ pending: FakePending) -> Bool {
        if options.version.legacyPermissions {
            let keys = approvedLegacy[pending.session] ?? []
            return pending.patterns.allSatisfy { key in keys.contains { wildcardMatch(key, $0) } }
        }
        return pending.patterns.allSatisfy { pattern in
            approved.last { wildcardMatch(pending.permission, $0.permission) && wildcardMatch(pattern, $0.pattern) } != nil
        }
    }

    /// `POST /permission/:id/reply` (and the old route on a new server): false for an id the
    /// server does not list.
    func replyPermission(_ id: String, reply: String, message: String?) -> Bool {
        guard let pending = listed[id], pending.kind == .permission else { return false }
        listed[id] = nil
        let legacy = options.version.legacyPermissions
        publish("permission.replied", legacy
            ? ["sessionID": .string(pending.session), "permissionID": .string(id), "response": .string(reply)]
            : ["sessionID": .string(pending.session), "requestID": .string(id), "reply": .string(reply)])
        switch reply {
        case "reject":
            resume(id, .reject(message: legacy ? nil : message))
            // The new generation rejects the session's other requests with it.
            guard !legacy else { return true }
            for (other, item) in listed.sorted(by: { $0.key < $1.key }) where item.kind == .permission && item.session == pending.session {
                listed[other] = nil
                publish("permission.replied", ["sessionID": .string(item.session), "requestID": .string(other), "reply": .string("reject")])
                resume(other, .reject(message: nil))
            }
        case "always":
            resume(id, .always)
            if legacy {
                approvedLegacy[pending.session, default: []].formUnion(pending.patterns)
            } else {
                approved += pending.always.map { (pending.permission, $0) }
            }
            // Requests of the session that the approval now covers are answered with it.
            for (other, item) in listed.sorted(by: { $0.key < $1.key }) where item.kind == .permission && item.session == pending.session && covered(item) {
                if legacy {
                    _ = replyPermission(other, reply: "always", message: nil)  // `respond` calls itself
                } else {
                    listed[other] = nil
                    publish("permission.replied", ["sessionID": .string(item.session), "requestID": .string(other), "reply": .string("always")])
                    resume(other, .always)
                }
            }
        default:
            resume(id, .once)
        }
        return true
    }

    /// `POST /question/:id/reply` and `…/reject`: false for an id the server does not list.
    func settleQuestion(_ id: String, answers: [[String]]?) -> Bool {
        guard let pending = listed[id], pending.kind == .question else { return false }
        listed[id] = nil
        if let answers {
            publish("question.replied", ["sessionID": .string(pending.session), "requestID": .string(id),
                                         "answers": .array(answers.map { .array($0.map(JSONValue.string)) })])
            resume(id, .answers(answers))
        } else {
            publish("question.rejected", ["sessionID": .string(pending.session), "requestID": .string(id)])
            resume(id, .dismissed)
        }
        return true
    }

    /// What `GET /permission` or `GET /question` lists, oldest first.
    func listedRequests(_ kind: FakePending.Kind) -> [JSONValue] {
        listed.filter { $0.value.kind == kind }.sorted { $0.key < $1.key }.map(\.value.info)
    }

    /// An abort: the session's waiting tools end aborted, and nobody is told about their
    /// requests. OpenCode up to 1.2 keeps listing them (orphaned: a reply removes them and
    /// changes nothing else); 1.18 drops them.
    func abortRequests(of session: String) {
        for (id, waiter) in waiters where waiter.session == session { resume(id, .aborted) }
        if options.version.strictRequests {
            listed = listed.filter { $0.value.session != session }
        }
    }

}
