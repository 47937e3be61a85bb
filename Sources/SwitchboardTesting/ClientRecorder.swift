import SwitchboardAdapterAPI
import SwitchboardCore
import Synchronization

/// A session client for tests: records every frame it receives and why it was disconnected.
public final class ClientRecorder: Sendable {
    /// The frames received, as a ``Recorder`` to wait on.
    public let frames = Recorder<SessionFrame>()
    private let reasons = Mutex<[DisconnectReason]>([])

    public init() {}

    /// The client to pass to ``SessionManager/connect(_:client:resumeFrom:)``.
    public var client: SessionClient {
        SessionClient(
            send: { [frames] frame in frames.append(frame) },
            onDisconnect: { [self] reason in self.reasons.withLock { $0.append(reason) } }
        )
    }

    /// Every frame received so far.
    public var received: [SessionFrame] { frames.items }

    /// The messages received so far.
    public var messages: [ChatMessage] { received.map(\.message) }

    /// The notices of the session manager received so far, in order.
    public var notices: [SessionNotice] { received.compactMap(\.notice) }

    /// The reasons it was disconnected with (at most one, normally).
    public var disconnectReasons: [DisconnectReason] { reasons.withLock { $0 } }

    /// Waits until a notice of the session manager satisfies `predicate`.
    public func waitForNotice(
        within timeout: Duration = .seconds(15),
        where predicate: @escaping @Sendable (SessionNotice) -> Bool
    ) async throws {
        try await frames.wait(within: timeout) { $0.contains { $0.notice.map(predicate) ?? false } }
    }

    /// Waits until a received message satisfies `predicate`.
    public func waitForMessage(
        within timeout: Duration = .seconds(15),
        where predicate: @escaping @Sendable (ChatMessage) -> Bool
    ) async throws {
        try await frames.wait(within: timeout) { $0.contains { predicate($0.message) } }
    }

    /// Waits until at least `count` frames have arrived.
    public func waitForFrames(_ count: Int, within timeout: Duration = .seconds(15)) async throws {
        try await frames.wait(within: timeout) { $0.count >= count }
    }

    /// Waits for the session's status notice `status` among the frames after the first
    /// `index` ones (pass the frame count taken before a turn to wait for that turn's end).
    public func waitForStatus(_ status: SessionStatus, after index: Int = 0, within timeout: Duration = .seconds(15)) async throws {
        try await frames.wait(within: timeout) { frames in
            frames.dropFirst(index).contains { $0.notice == .status(status) }
        }
    }
}

extension ClientRecorder {
    /// The decision requests received so far (`permission_request` / `question` frames).
    public var decisionRequests: [PendingDecision] {
        received.compactMap { if case .requested(let pending)? = $0.decision { pending } else { nil } }
    }

    /// The resolutions received so far (`permission_resolved` / `question_resolved` frames).
    public var resolutions: [DecisionResolution] {
        received.compactMap { if case .resolved(let resolution)? = $0.decision { resolution } else { nil } }
    }

    /// Waits for a decision request among the frames after the first `index`, and returns it.
    @discardableResult
    public func waitForDecisionRequest(after index: Int = 0, within timeout: Duration = .seconds(15)) async throws -> PendingDecision {
        let frames = try await frames.wait(within: timeout) { frames in
            frames.dropFirst(index).contains { if case .requested? = $0.decision { true } else { false } }
        }
        for frame in frames.dropFirst(index) {
            if case .requested(let pending)? = frame.decision { return pending }
        }
        throw RecorderWaitError.finished(frames.count)
    }

    /// Waits for the resolution of request `requestId`, and returns it.
    @discardableResult
    public func waitForResolution(of requestId: String, within timeout: Duration = .seconds(15)) async throws -> DecisionResolution {
        let frames = try await frames.wait(within: timeout) { frames in
            frames.contains { if case .resolved(let r)? = $0.decision { r.requestId == requestId } else { false } }
        }
        for frame in frames {
            if case .resolved(let resolution)? = frame.decision, resolution.requestId == requestId { return resolution }
        }
        throw RecorderWaitError.finished(frames.count)
    }
}
