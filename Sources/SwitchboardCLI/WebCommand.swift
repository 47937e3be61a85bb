import ArgumentParser
import Foundation

/// `switchboard web`: prints the address of the running daemon's web page, with the token in
/// the fragment (`#token=…`, which the browser never sends to a server), and opens it with
/// `xdg-open` when a display is present.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Print (and open, when a display is present) the address of the running daemon's web page.",
        discussion: """
        The address carries the daemon's token in its fragment (http://127.0.0.1:7391/#token=…); \
        the page keeps it in the browser's local storage and removes it from the address bar. \
        With DISPLAY or WAYLAND_DISPLAY set, the address is opened with xdg-open (unless --no-open).
        """
    )

    /// The environment variable that makes `serve` read the page's files from a directory
    /// (for working on the page without rebuilding).
    static let directoryVariable = "SWITCHBOARD_WEB_DIRECTORY"

    @OptionGroup var options: ConfigOption
    @Flag(name: .customLong("no-open"), help: "Only print the address; do not run xdg-open.") var noOpen = false

    func run() async throws {
        let config = try options.load()
        let daemon = DaemonClient(config: config)
        guard DaemonClient.accepts(host: daemon.host, port: daemon.port) else {
            throw CLIError("No daemon answers at \(daemon.baseURL): start it with `switchboard serve`, then run `switchboard web` again.")
        }
        guard let token = daemon.token else {
            throw CLIError("No token for the daemon at \(daemon.baseURL): set server.token in the config, $SWITCHBOARD_TOKEN, or use the state directory the daemon uses.")
        }
        let address = "\(daemon.baseURL)/#token=\(Self.fragmentEncoded(token))"
        print(address)
        fflush(nil)
        let environment = ProcessInfo.processInfo.environment
        let display = [environment["DISPLAY"], environment["WAYLAND_DISPLAY"]].contains { !($0 ?? "").isEmpty }
        guard display, !noOpen else { return }
        let opener = Process()
        opener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        opener.arguments = ["xdg-open", address]
        do {
            try opener.run()
            opener.waitUntilExit()
        } catch {
            throw CLIError("Could not run xdg-open: \(error.localizedDescription). Open the address above in a browser.")
        }
        if opener.terminationStatus != 0 {
            throw CLIError("xdg-open exited with status \(opener.terminationStatus). Open the address above in a browser.")
        }
    }

    /// The token as it may stand in a URL fragment (percent-encoded except unreserved characters).
    static func fragmentEncoded(_ token: String) -> String {
        token.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? token
    }
}
