import SwitchboardAdapterAPI
import Testing

/// Keeps suites that start child processes apart from the conformance suite's process check,
/// which sees every child of the test process: a suite with this trait runs while no other
/// suite with it runs (in this test process).
///
/// ```swift
/// @Suite("My plugin", .childProcessGate) struct MyPluginTests { … }
/// ```
public struct ChildProcessGate: SuiteTrait, TestScoping {
    private static let gate = AsyncLock()

    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await Self.gate.withLock { try await function() }
    }
}

extension Trait where Self == ChildProcessGate {
    /// Runs the suite while no other suite with this trait runs.
    public static var childProcessGate: Self { ChildProcessGate() }
}
