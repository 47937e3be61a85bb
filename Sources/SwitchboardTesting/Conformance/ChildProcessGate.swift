import Testing

/// Keeps suites that start child processes apart from the conformance suite's process check,
/// which sees every child of the test process: a suite with this trait runs while no other
/// suite with it runs (in this test process).
///
/// ```swift
/// @Suite("My plugin", .childProcessGate) struct MyPluginTests { … }
/// ```
public struct ChildProcessGate: SuiteTrait, TestScoping {
    private actor Gate {
        private var busy = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func acquire() async {
            if !busy { busy = true; return }
            await withCheckedContinuation { waiters.append($0) }
        }

        func release() {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
    }

    private static let gate = Gate()

    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        await Self.gate.acquire()
        do {
            try await function()
        } catch {
            await Self.gate.release()
            throw error
        }
        await Self.gate.release()
    }
}

extension Trait where Self == ChildProcessGate {
    /// Runs the suite while no other suite with this trait runs.
    public static var childProcessGate: Self { ChildProcessGate() }
}
