import Foundation
import SwitchboardTesting

/// The daemon's tests speak through a plain loopback connection.
typealias RawConnection = LoopbackConnection

extension LoopbackConnection {
    /// Reads one complete HTTP response (head and `Content-Length` body) and removes it from
    /// ``received``; `nil` if none arrived in time.
    func readResponse(within timeout: Duration = .seconds(10)) -> RawHTTP.Reply? {
        var reply: RawHTTP.Reply?
        _ = waitFor(within: timeout) { bytes in
            reply = Self.parseResponse(bytes)
            return reply != nil
        }
        if let reply {
            let length = reply.head.utf8.count + 4 + reply.body.utf8.count
            received.removeFirst(min(length, received.count))
        }
        return reply
    }

    private static func parseResponse(_ bytes: [UInt8]) -> RawHTTP.Reply? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        let length = head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = text[end.upperBound...].utf8.prefix(length)
        guard body.count == length else { return nil }
        return RawHTTP.Reply(status: status, head: head, body: String(decoding: body, as: UTF8.self))
    }
}

/// The WebSocket frames a raw connection received after its upgrade.
enum RawWebSocket {
    struct Frame: Equatable {
        var opcode: UInt8
        var payload: [UInt8]
    }

    /// Splits server frames (unmasked) out of `bytes`; the rest is an incomplete frame.
    static func frames(in bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var i = 0
        while i + 2 <= bytes.count {
            let opcode = bytes[i] & 0x0F
            var length = Int(bytes[i + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard i + 4 <= bytes.count else { break }
                length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                header = 4
            } else if length == 127 {
                guard i + 10 <= bytes.count else { break }
                length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[i + 2 + $1]) }
                header = 10
            }
            guard length >= 0, i + header + length <= bytes.count else { break }
            frames.append(Frame(opcode: opcode, payload: Array(bytes[(i + header)..<(i + header + length)])))
            i += header + length
        }
        return frames
    }

    /// The bytes after the HTTP head (the 101 response).
    static func afterHead(_ bytes: [UInt8]) -> [UInt8] {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return [] }
        for i in 0...(bytes.count - 4) where Array(bytes[i..<(i + 4)]) == end {
            return Array(bytes[(i + 4)...])
        }
        return []
    }

    /// A masked client frame.
    static func clientFrame(opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }
}
