import SwitchboardAdapterAPI
import Synchronization

/// Writes sessions' frames to the store's event log in batches, then reports them committed.
///
/// A frame is submitted when it is made; while one batch is being written, the next ones
/// gather, so under load each transaction carries many frames (group commit) and an idle
/// session's frame is written at once. Only after a batch is committed does the manager
/// deliver its frames to clients: every frame a client received is in the log.
final class FrameLog: Sendable {
    /// How far each session's frames are committed: session id → the highest `seq`.
    typealias Commit = [String: Int]

    private struct State {
        var pending: [LoggedFrame] = []
        var writer: Task<Void, Never>?
        /// Frames submitted, and frames whose batch was written (or failed).
        var submitted = 0
        var done = 0
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let store: any SessionStore
    private let onCommit: @Sendable (Commit, (any Error)?) async -> Void
    private let state = Mutex(State())

    /// `onCommit` receives each written batch (or the error that failed it), in order.
    init(store: any SessionStore, onCommit: @escaping @Sendable (Commit, (any Error)?) async -> Void) {
        self.store = store
        self.onCommit = onCommit
    }

    /// Queues a frame for the log; the writer starts when none runs.
    func submit(_ frame: LoggedFrame) {
        state.withLock { s in
            s.pending.append(frame)
            s.submitted += 1
            guard s.writer == nil else { return }
            s.writer = Task { [self] in await write() }
        }
    }

    /// Waits until every frame submitted before this call has been written and reported.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                guard s.done < s.submitted else { return true }
                s.waiters.append((s.submitted, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// The highest `seq` of each session in `batch`. A batch is mostly runs of one session's
    /// frames: a run costs one look-up, not one per frame.
    static func commit(of batch: [LoggedFrame]) -> Commit {
        var commit: Commit = [:]
        var index = batch.startIndex
        while index < batch.endIndex {
            let sessionId = batch[index].sessionId
            var highest = batch[index].seq
            index += 1
            while index < batch.endIndex, batch[index].sessionId == sessionId {
                highest = max(highest, batch[index].seq)
                index += 1
            }
            commit[sessionId] = max(commit[sessionId] ?? highest, highest)
        }
        return commit
    }

    /// Writes batches until nothing is pending.
    private func write() async {
        while true {
            let batch = state.withLock { s -> [LoggedFrame] in
                defer { s.pending = [] }
                if s.pending.isEmpty { s.writer = nil }
                return s.pending
            }
            guard !batch.isEmpty else { return }
            var failure: (any Error)?
            do {
                try await store.appendFrames(batch)
            } catch {
                failure = error
            }
            await onCommit(Self.commit(of: batch), failure)
            let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                s.done += batch.count
                let ready = s.waiters.filter { $0.target <= s.done }.map(\.continuation)
                s.waiters.removeAll { $0.target <= s.done }
                return ready
            }
            for waiter in woken { waiter.resume() }
        }
    }
}

/// Where the frame log reports commits: the manager, held weakly (it owns the log).
final class CommitSink: Sendable {
    private let box = Mutex<WeakManager>(WeakManager())

    private struct WeakManager {
        weak var manager: SessionManager?
    }

    var manager: SessionManager? {
        get { box.withLock { $0.manager } }
        set { box.withLock { $0.manager = newValue } }
    }
}
