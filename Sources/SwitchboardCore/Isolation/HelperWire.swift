import SwitchboardAdapterAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one frame between the daemon and a `switchboard-plugin-host` helper asks or says.
///
/// Host → helper frames mirror the descriptor's functions; helper → host frames carry their
/// results and the plugin's events, whose JSON crosses untouched.
package enum HelperOp: UInt8, Sendable {
    // Host → helper.
    /// Create adapter `adapter` with the settings JSON in the payload.
    case create = 1
    /// `start` with the options JSON.
    case start = 2
    /// `send_message` with the text.
    case sendMessage = 3
    /// `set_model` with the model.
    case setModel = 4
    /// `interrupt`.
    case interrupt = 5
    /// `dispose`.
    case dispose = 6
    /// `answer` with the answer JSON.
    case answer = 7
    /// `destroy`.
    case destroy = 8

    // Helper → host.
    /// The plugin loaded; the payload is its descriptor as JSON (``HelperDescriptor``).
    case ready = 64
    /// `create` returned: request 0 with no payload, or request 1 with the reason.
    case created = 65
    /// One event the plugin passed to its callback, as it passed it.
    case event = 66
    /// A call returned; the payload is its return code, 4 bytes little-endian.
    case returned = 67
    /// `destroy` returned: no callback for the adapter follows.
    case destroyed = 68
    /// The helper saw the plugin break a rule (a callback from two threads at once, a
    /// callback after destroy); the payload says what, for the adapter's error event.
    case violation = 69

    /// The descriptor function the op calls, for messages.
    package var callName: String {
        switch self {
        case .create: "create"
        case .start: "start"
        case .sendMessage: "send_message"
        case .setModel: "set_model"
        case .interrupt: "interrupt"
        case .dispose: "dispose"
        case .answer: "answer"
        case .destroy: "destroy"
        default: "\(self)"
        }
    }
}

/// One frame: a 21-byte header — payload length (u32), op (u8), adapter id (u64), request
/// id (u64), all little-endian — then the payload.
package struct HelperFrame: Sendable, Equatable {
    /// The header's size in bytes.
    package static let headerSize = 21
    /// The largest payload either side accepts (64 MiB); a larger one ends the connection.
    package static let maximumPayload = 64 << 20

    package var op: HelperOp
    package var adapter: UInt64
    package var request: UInt64
    package var payload: [UInt8]

    package init(_ op: HelperOp, adapter: UInt64 = 0, request: UInt64 = 0, payload: [UInt8] = []) {
        self.op = op
        self.adapter = adapter
        self.request = request
        self.payload = payload
    }

    /// The frame's bytes.
    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + payload.count)
        Self.append(UInt64(payload.count), bytes: 4, to: &bytes)
        bytes.append(op.rawValue)
        Self.append(adapter, bytes: 8, to: &bytes)
        Self.append(request, bytes: 8, to: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }

    private static func append(_ value: UInt64, bytes count: Int, to bytes: inout [UInt8]) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// A return code as a payload.
    package static func codePayload(_ code: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: code)
        return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt32($0))) }
    }

    /// The return code in a `returned` frame's payload, or `nil` when it is not 4 bytes.
    package var code: Int32? {
        guard payload.count == 4 else { return nil }
        var bits: UInt32 = 0
        for (i, byte) in payload.enumerated() { bits |= UInt32(byte) << (8 * UInt32(i)) }
        return Int32(bitPattern: bits)
    }
}

/// Why the bytes from the other side are not frames. The connection cannot go on.
package struct HelperWireError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Cuts frames out of the bytes read from a socket, in order, checking every header.
package struct HelperFrameReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    package init() {}

    /// Adds bytes read from the socket.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    /// - Throws: ``HelperWireError`` for an unknown op or a payload over the limit.
    package mutating func next() throws(HelperWireError) -> HelperFrame? {
        let available = buffer.count - start
        guard available >= HelperFrame.headerSize else { return nil }
        func field(_ offset: Int, _ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value |= UInt64(buffer[start + offset + i]) << (8 * UInt64(i)) }
            return value
        }
        let length = Int(field(0, 4))
        guard length <= HelperFrame.maximumPayload else {
            throw HelperWireError("a frame of \(length) bytes (the limit is \(HelperFrame.maximumPayload))")
        }
        guard let op = HelperOp(rawValue: buffer[start + 4]) else {
            throw HelperWireError("a frame with the unknown op \(buffer[start + 4])")
        }
        guard available >= HelperFrame.headerSize + length else { return nil }
        let payloadStart = start + HelperFrame.headerSize
        let frame = HelperFrame(op, adapter: field(5, 8), request: field(13, 8), payload: Array(buffer[payloadStart..<(payloadStart + length)]))
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return frame
    }
}

/// Blocking reads and writes on a descriptor, retried on `EINTR`.
package enum HelperIO {
    /// Writes every byte; false when the other side is gone.
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress!.advanced(by: offset), raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Reads frames from `fd` until end of file or an error, handing each to `body`.
    /// - Returns: why reading stopped: `nil` at end of file, else the problem.
    package static func readFrames(_ fd: Int32, _ body: (HelperFrame) -> Void) -> String? {
        var reader = HelperFrameReader()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR { continue }
                return "reading failed (errno \(errno))"
            }
            chunk.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            do {
                while let frame = try reader.next() { body(frame) }
            } catch {
                return error.description
            }
        }
    }
}

/// What a helper reports about the plugin it loaded, or why it could not: the first frame
/// of a serving helper, and the line a probing helper prints.
package struct HelperDescriptor: Sendable, Hashable {
    package var agentType: String
    package var displayName: String
    package var pluginVersion: String
    package var toolchain: String
    package var abiVersion: UInt32
    package var structSize: UInt32
    /// Whether the descriptor has `answer`.
    package var answers: Bool
    /// Whether the plugin serves the agent types the config names it for.
    package var servesConfiguredTypes: Bool

    package init(agentType: String, displayName: String, pluginVersion: String, toolchain: String, abiVersion: UInt32, structSize: UInt32, answers: Bool,
                 servesConfiguredTypes: Bool = false) {
        self.agentType = agentType
        self.displayName = displayName
        self.pluginVersion = pluginVersion
        self.toolchain = toolchain
        self.abiVersion = abiVersion
        self.structSize = structSize
        self.answers = answers
        self.servesConfiguredTypes = servesConfiguredTypes
    }
}

extension HelperDescriptor {
    /// The descriptor as one line of JSON.
    package var jsonValue: JSONValue {
        .object([
            "agentType": .string(agentType), "displayName": .string(displayName), "pluginVersion": .string(pluginVersion),
            "toolchain": .string(toolchain), "abiVersion": .int(Int(abiVersion)), "structSize": .int(Int(structSize)),
            "answers": .bool(answers), "servesConfiguredTypes": .bool(servesConfiguredTypes),
        ])
    }

    /// Reads what ``jsonValue`` wrote; `nil` when anything is missing.
    package init?(_ value: JSONValue) {
        guard let type = value["agentType"]?.stringValue, let abi = value["abiVersion"]?.intValue, let size = value["structSize"]?.intValue,
              let abiVersion = UInt32(exactly: abi), let structSize = UInt32(exactly: size)
        else { return nil }
        self.init(
            agentType: type, displayName: value["displayName"]?.stringValue ?? type, pluginVersion: value["pluginVersion"]?.stringValue ?? "unknown",
            toolchain: value["toolchain"]?.stringValue ?? "unknown", abiVersion: abiVersion, structSize: structSize,
            answers: value["answers"]?.boolValue ?? false, servesConfiguredTypes: value["servesConfiguredTypes"]?.boolValue ?? false
        )
    }
}
