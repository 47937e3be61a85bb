import SwitchboardAdapterAPI

/// The JSON lines the adapter writes to `claude`'s stdin (`--input-format=stream-json`).
enum ClaudeInput {
    /// One user turn: `{"type":"user","message":{"role":"user","content":[{"type":"text","text":…}]}}` and a newline.
    static func userTurn(_ text: String) -> [UInt8] {
        var w = JSONWriter(capacity: text.utf8.count + 96)
        w.appendRaw("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":")
        w.appendString(text)
        w.appendRaw("}]}}\n")
        return w.bytes
    }

    /// The control request that interrupts the running turn; the CLI answers with a
    /// `control_response` carrying the same `request_id` and ends the turn.
    static func interrupt(requestId: String) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.appendRaw("{\"type\":\"control_request\",\"request_id\":")
        w.appendString(requestId)
        w.appendRaw(",\"request\":{\"subtype\":\"interrupt\"}}\n")
        return w.bytes
    }
}
