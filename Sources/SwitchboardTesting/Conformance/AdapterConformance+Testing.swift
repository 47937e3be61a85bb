import Testing

extension AdapterConformance {
    /// Runs the suite (all checks, or `checks`) and records a Swift Testing issue for every
    /// check that failed, naming the subject, the check and what went wrong.
    ///
    /// ```swift
    /// @Test func echoAgentConforms() async {
    ///     await AdapterConformance(pluginPath: path, inputs: inputs).runTest()
    /// }
    /// ```
    /// - Returns: the report, for further expectations (e.g. which checks were not applicable).
    @discardableResult
    public func runTest(
        _ checks: [ConformanceCheck] = ConformanceCheck.allCases,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> ConformanceReport {
        let report = await run(checks)
        for failure in report.failures {
            Issue.record(
                "\(report.subject) — \(failure.check.rawValue) (\(failure.check.title)): \(failure.message)",
                sourceLocation: sourceLocation
            )
        }
        return report
    }
}
