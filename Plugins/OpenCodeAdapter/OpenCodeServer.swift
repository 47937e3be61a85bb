import Foundation
import SwitchboardAdapterAPI
import SwitchboardProcess
#if canImport(Glibc)
import Glibc
#endif

/// What identifies one server: where it runs, the project it serves, and the settings it
/// was started with (two agent configs never share a server started for the other).
struct ServerKey: Sendable, Hashable {
    /// The container the server runs in; `nil` on the host.
    var container: String?
    var projectPath: String
    var settings: OpenCodeSettings
}

/// A running `opencode serve`: the process the plugin owns and how to reach it.
///
/// On the host the process is `opencode serve` itself, in a process group of its own. In a
/// container it is `docker exec` running `opencode serve` inside the container, bound to the
/// container's own address on its network; the host reaches that address directly (no
/// published port), and stopping it kills the server inside the container by its pid there
/// before the local `docker exec` is killed.
final class OpenCodeServer: Sendable {
    let key: ServerKey
    let endpoint: HTTPEndpoint
    let process: OwnedProcess
    let remotePid: Int32?

    init(key: ServerKey, endpoint: HTTPEndpoint, process: OwnedProcess, remotePid: Int32?) {
        self.key = key
        self.endpoint = endpoint
        self.process = process
        self.remotePid = remotePid
    }

    var isAlive: Bool { !process.hasExited }

    /// Where the server is, for messages.
    var placeDescription: String {
        "OpenCode server at \(endpoint.host):\(endpoint.port)" + (key.container.map { " in container '\($0)'" } ?? "")
    }

    /// Starts a server for `key` and waits until it answers `GET /session` with 200.
    static func launch(_ key: ServerKey) async throws -> OpenCodeServer {
        let settings = key.settings
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in settings.environment { environment[name] = value }
        if let password = settings.password { environment["OPENCODE_SERVER_PASSWORD"] = password }
        if let username = settings.username { environment["OPENCODE_SERVER_USERNAME"] = username }
        let process: OwnedProcess
        let endpoint: HTTPEndpoint
        do {
            if let container = key.container {
                let address = try await containerAddress(container, docker: settings.docker, environment: environment)
                let port = try freePort(on: "127.0.0.1")
                var arguments = ["exec", "-w", key.projectPath]
                if settings.password != nil { arguments += ["-e", "OPENCODE_SERVER_PASSWORD"] }
                if settings.username != nil { arguments += ["-e", "OPENCODE_SERVER_USERNAME"] }
                arguments += [container, "sh", "-c", #"echo "switchboard-opencode-pid $$"; exec "$0" serve --port "$1" --hostname "$2""#,
                              settings.command, String(port), address]
                process = try await OwnedProcess.start(settings.docker, arguments, environment: environment, directory: nil,
                                                       role: "docker binary", settingKey: "settings.docker")
                endpoint = HTTPEndpoint(host: address, port: port, authorization: settings.authorization)
            } else {
                let port = try freePort(on: settings.hostname)
                process = try await OwnedProcess.start(
                    settings.command, ["serve", "--port", String(port), "--hostname", settings.hostname],
                    environment: environment, directory: key.projectPath, role: "opencode binary", settingKey: "settings.binary"
                )
                let connectHost = switch settings.hostname {
                case "0.0.0.0": "127.0.0.1"
                case "::": "::1"
                default: settings.hostname
                }
                endpoint = HTTPEndpoint(host: connectHost, port: port, authorization: settings.authorization)
            }
        } catch let failure as HTTPFailure {
            throw AdapterError(.agentFailure, "Could not start the OpenCode server: \(failure.description).")
        } catch let error as AdapterError {
            throw AdapterError(.agentFailure, "Could not start the OpenCode server: \(error.message)")
        }
        try await waitUntilReady(process: process, endpoint: endpoint, timeout: settings.readyTimeout)
        var remotePid: Int32?
        if key.container != nil {
            let line = process.logTail(lines: 200).split(separator: "\n").first { $0.hasPrefix("switchboard-opencode-pid ") }
            remotePid = line.flatMap { Int32($0.split(separator: " ").last ?? "") }
        }
        return OpenCodeServer(key: key, endpoint: endpoint, process: process, remotePid: remotePid)
    }

    private static func waitUntilReady(process: OwnedProcess, endpoint: HTTPEndpoint, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if process.hasExited {
                throw AdapterError(.agentFailure, "The OpenCode server \(process.exitDescription) before it was ready. The end of its log:\n\(process.logTail())")
            }
            if let reply = try? await endpoint.request("GET", "/session", timeout: .seconds(2)) {
                if reply.status == 200 { return }
                if reply.status == 401 {
                    await process.stop()
                    throw AdapterError(.agentFailure, "The OpenCode server refused the credentials (401 on GET /session); check settings.username and settings.password.")
                }
            }
            if ContinuousClock.now >= deadline {
                await process.stop()
                throw AdapterError(.agentFailure, "The OpenCode server did not answer GET /session within \(timeout) (settings.readyTimeoutSeconds). The end of its log:\n\(process.logTail())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The container's address on its network, from `docker inspect`.
    private static func containerAddress(_ container: String, docker: String, environment: [String: String]) async throws -> String {
        let inspect = try await OwnedProcess.start(
            docker, ["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container],
            environment: environment, directory: nil, role: "docker binary", settingKey: "settings.docker"
        )
        guard await inspect.waitForExit(within: .seconds(30)) else {
            await inspect.stop()
            throw AdapterError(.agentFailure, "'\(docker) inspect \(container)' did not finish within 30 seconds.")
        }
        let text = inspect.logTail(lines: 5)
        guard inspect.process.exitStatus?.isSuccess == true,
              let address = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.contains(".") || $0.contains(":") })
        else {
            throw AdapterError(.agentFailure, "Could not find the address of container '\(container)' ('\(docker) inspect' \(inspect.exitDescription)): \(text)")
        }
        return String(address)
    }

    /// A port nobody listens on right now (bound to port 0, then released).
    static func freePort(on host: String) throws(HTTPFailure) -> Int {
        let bindHost = host == "0.0.0.0" || host == "localhost" ? "127.0.0.1" : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(bindHost, "0", &hints, &list) == 0, let info = list else {
            throw HTTPFailure(description: "cannot resolve the hostname '\(host)'")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw HTTPFailure(description: "cannot open a socket") }
        defer { close(fd) }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw HTTPFailure(description: "cannot bind to '\(host)': \(String(cString: strerror(errno)))")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let family = storage.ss_family
        let port = withUnsafePointer(to: &storage) { pointer -> UInt16 in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }
        }
        return Int(UInt16(bigEndian: port))
    }

    /// Stops the server.
    func stop() async {
        if let container = key.container, let remotePid, isAlive {
            var environment = ProcessInfo.processInfo.environment
            for (name, value) in key.settings.environment { environment[name] = value }
            if let killer = try? await OwnedProcess.start(key.settings.docker, ["exec", container, "kill", "-TERM", String(remotePid)],
                                                          environment: environment, directory: nil,
                                                          role: "docker binary", settingKey: "settings.docker") {
                if !(await killer.waitForExit(within: .seconds(10))) { await killer.stop() }
            }
            _ = await process.waitForExit(within: .seconds(3))
        }
        await process.stop()
    }
}
