import CSwitchboardABI
import Dispatch
import SwitchboardAdapterAPI
import SwitchboardCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Exits with a line on stderr (the daemon's log).
func quit(_ text: String, status: Int32) -> Never {
    logLine(text)
    exit(status)
}

/// One line on stderr, which is the daemon's.
func logLine(_ text: String) {
    let bytes = Array("switchboard-plugin-host[\(getpid())]: \(text)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// One adapter the daemon created: its handle lives on its own queue, so a call that never
/// returns holds up only this adapter's later calls (the daemon's deadline fails them).
final class ServedAdapter: @unchecked Sendable {
    let id: UInt64
    let queue: DispatchQueue
    /// Confined to `queue`.
    var handle: OpaquePointer?
    /// Callbacks in flight: the ABI serialises them per adapter, so a second one at once is
    /// a plugin's fault the daemon is told about.
    let callbacksInFlight = Atomic<Int>(0)

    init(id: UInt64) {
        self.id = id
        queue = DispatchQueue(label: "switchboard.plugin-host.adapter-\(id)")
    }
}

/// The serving helper's state: the plugin's descriptor, the adapters by id, the socket.
final class HelperServer: Sendable {
    private let descriptor: DescriptorPointer
    var table: switchboard_plugin_descriptor { descriptor.table }
    let socket: Int32
    private let adapters = Mutex<[UInt64: ServedAdapter]>([:])
    private let writeLock = Mutex(())
    private let dropped = Atomic<Int>(0)

    init(descriptor: DescriptorPointer, socket: Int32) {
        self.descriptor = descriptor
        self.socket = socket
    }

    /// Sends a frame; a daemon that is gone ends this process.
    func send(_ frame: HelperFrame) {
        let bytes = frame.encoded()
        let sent = writeLock.withLock { _ in HelperIO.writeAll(socket, bytes) }
        if !sent { _exit(0) }
    }

    /// The plugin's callback for adapter `id`.
    func event(_ id: UInt64, _ json: UnsafePointer<CChar>?, _ length: Int) {
        guard let served = adapters.withLock({ $0[id] }) else {
            // After destroy (or for an id never created): never passed on.
            let count = dropped.add(1, ordering: .relaxed).newValue
            if count == 1 || count % 1000 == 0 {
                logLine("dropped \(count) callback(s) for adapter \(id), which was destroyed (the ABI allows none after destroy)")
            }
            return
        }
        let inFlight = served.callbacksInFlight.add(1, ordering: .acquiringAndReleasing).newValue
        defer { served.callbacksInFlight.subtract(1, ordering: .acquiringAndReleasing) }
        guard inFlight == 1 else {
            send(HelperFrame(.violation, adapter: id, payload: Array("an event from one thread while another event was being delivered (the ABI serialises callbacks per adapter)".utf8)))
            return
        }
        guard let json else {
            send(HelperFrame(.violation, adapter: id, payload: Array("a NULL event".utf8)))
            return
        }
        guard length <= HelperFrame.maximumPayload else {
            send(HelperFrame(.violation, adapter: id, payload: Array("an event of \(length) bytes (the limit is \(HelperFrame.maximumPayload))".utf8)))
            return
        }
        let bytes = UnsafeRawBufferPointer(start: json, count: length)
        send(HelperFrame(.event, adapter: id, payload: Array(bytes)))
    }

    /// Handles one frame from the daemon; never blocks on the plugin.
    func handle(_ frame: HelperFrame) {
        let id = frame.adapter
        switch frame.op {
        case .create:
            let served = ServedAdapter(id: id)
            adapters.withLock { $0[id] = served }
            served.queue.async { [self] in create(served, settings: frame.payload) }
        case .destroy:
            guard let served = adapters.withLock({ $0[id] }) else {
                send(HelperFrame(.destroyed, adapter: id))
                return
            }
            served.queue.async { [self] in
                if let handle = served.handle { table.destroy!(handle) }
                served.handle = nil
                adapters.withLock { _ = $0.removeValue(forKey: id) }
                send(HelperFrame(.destroyed, adapter: id))
            }
        case .start, .sendMessage, .setModel, .interrupt, .dispose, .answer:
            guard let served = adapters.withLock({ $0[id] }) else {
                send(HelperFrame(.returned, adapter: id, request: frame.request, payload: HelperFrame.codePayload(SWITCHBOARD_ERR_INVALID_HANDLE)))
                return
            }
            served.queue.async { [self] in
                let code = call(frame, on: served)
                send(HelperFrame(.returned, adapter: id, request: frame.request, payload: HelperFrame.codePayload(code)))
            }
        default:
            quit("the daemon sent a frame this helper does not take (\(frame.op))", status: 2)
        }
    }

    private func create(_ served: ServedAdapter, settings: [UInt8]) {
        var out: OpaquePointer?
        var error: UnsafeMutablePointer<CChar>?
        let token = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: served.id))
        let rc = withText(settings) { pointer, count in
            table.create!(pointer, count, helperEventCallback, token, &out, &error)
        }
        var reason: String?
        if let error {
            reason = String(cString: error)
            table.free_buffer!(error)
        }
        if rc == SWITCHBOARD_OK, let out {
            served.handle = out
            send(HelperFrame(.created, adapter: served.id))
        } else {
            adapters.withLock { _ = $0.removeValue(forKey: served.id) }
            let why = reason ?? (rc == SWITCHBOARD_OK ? "it returned no adapter" : "it returned code \(rc) without a reason")
            send(HelperFrame(.created, adapter: served.id, request: 1, payload: Array(why.utf8)))
        }
    }

    private func call(_ frame: HelperFrame, on served: ServedAdapter) -> Int32 {
        guard let handle = served.handle else { return SWITCHBOARD_ERR_INVALID_HANDLE }
        let request = frame.request
        let d = table
        return withText(frame.payload) { pointer, count in
            switch frame.op {
            case .start: d.start!(handle, request, pointer, count)
            case .sendMessage: d.send_message!(handle, request, pointer, count)
            case .setModel: d.set_model!(handle, request, pointer, count)
            case .interrupt: d.interrupt!(handle, request)
            case .dispose: d.dispose!(handle, request)
            case .answer: d.answer.map { $0(handle, request, pointer, count) } ?? SWITCHBOARD_ERR_INVALID_ARGUMENT
            default: SWITCHBOARD_ERR_INVALID_ARGUMENT
            }
        }
    }

    /// Passes `bytes` NUL-terminated (the ABI gives a length, but a plugin may rely on the NUL).
    private func withText(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> Int32) -> Int32 {
        var terminated = bytes
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!, bytes.count) }
        }
    }

    /// The one server of this process, set before any adapter is created.
    static let current = Mutex<HelperServer?>(nil)
}

/// The one callback every adapter in this helper gets; its context is the adapter's id.
let helperEventCallback: switchboard_event_callback = { context, json, length in
    let id = UInt64(UInt(bitPattern: context))
    HelperServer.current.withLock { $0 }?.event(id, json, length)
}

