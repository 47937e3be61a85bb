import SwitchboardAdapterAPI

extension SwitchboardConfig {
    /// The keys of the `history` object.
    public static let historyKeys: [String] = ["maxAgeDays", "maxBytesPerSession", "maxFramesPerSession"]
    /// The range of `queueLimit`.
    public static let queueLimitRange = 1...10_000

    /// Reads `history` and `queueLimit`, reporting each problem with its key path.
    static func parseHistory(_ object: [String: JSONValue], into config: inout SwitchboardConfig, issue: (String, String) -> Void) {
        func integer(_ value: JSONValue, _ keyPath: String, _ range: ClosedRange<Int>) -> Int? {
            if let n = value.intValue, range.contains(n) { return n }
            issue(keyPath, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(value.jsonText)")
            return nil
        }
        if let value = object["queueLimit"], let n = integer(value, "queueLimit", queueLimitRange) {
            config.queueLimit = n
        }
        guard let value = object["history"] else { return }
        guard let history = value.objectValue else {
            issue("history", "must be an object, not \(value.kindDescription)")
            return
        }
        for key in history.keys.sorted() where !historyKeys.contains(key) {
            issue("history.\(key)", "unknown key (known keys: \(historyKeys.joined(separator: ", ")))")
        }
        if let value = history["maxFramesPerSession"], let n = integer(value, "history.maxFramesPerSession", 1...HistoryRetention.maximumFrames) {
            config.history.maxFramesPerSession = n
        }
        if let value = history["maxBytesPerSession"], let n = integer(value, "history.maxBytesPerSession", 1024...HistoryRetention.maximumBytes) {
            config.history.maxBytesPerSession = n
        }
        if let value = history["maxAgeDays"], value != .null {
            if let n = integer(value, "history.maxAgeDays", 1...HistoryRetention.maximumAgeDays) { config.history.maxAgeDays = n }
        }
    }
}
