// switchboard-plugin-host: loads one plugin in a process of its own, for agent types the
// daemon runs with `isolation: "process"`, and serves the plugin's C ABI to the daemon over
// the socket it was given as descriptor 3 (frames of `HelperWire`).
//
//   switchboard-plugin-host --probe FILE         load FILE, print its descriptor as JSON, exit
//   switchboard-plugin-host --serve FILE TYPE    serve FILE (for agent type TYPE) on fd 3
//
// A plugin that crashes or calls exit() takes only this process down; the daemon tells the
// sessions it served and starts a new helper when one is needed. This process exits when
// the daemon's end of the socket closes, however the daemon ended.

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

func probe(_ path: String) -> Never {
    do {
        let plugin = try PluginLoader.load(path)
        print(plugin.helperDescriptor.jsonValue.jsonText)
        exit(0)
    } catch {
        print(JSONValue.object(["error": .string(error.message), "code": .string(error.code.name)]).jsonText)
        exit(1)
    }
}

func serve(_ path: String, agentType: String) -> Never {
    let socket: Int32 = 3
    _ = fcntl(socket, F_SETFD, FD_CLOEXEC)
    let plugin: LoadedPlugin
    do {
        plugin = try PluginLoader.load(path)
    } catch {
        quit(error.message, status: 1)
    }
    guard let descriptor = plugin.descriptor else { quit("Plugin '\(path)' has no descriptor in this process.", status: 1) }
    let server = HelperServer(descriptor: descriptor, socket: socket)
    HelperServer.current.withLock { $0 = server }
    server.send(HelperFrame(.ready, payload: Array(plugin.helperDescriptor.jsonValue.jsonText.utf8)))
    if let problem = HelperIO.readFrames(socket, server.handle) {
        quit("the daemon's frames could not be read: \(problem)", status: 2)
    }
    // The daemon closed its end (it is gone, or it is done with this plugin): plugins'
    // process guardians see this process end and stop the agents they guard.
    _exit(0)
}

signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
switch (arguments.first, arguments.count) {
case ("--probe", 2):
    probe(arguments[1])
case ("--serve", 3):
    serve(arguments[1], agentType: arguments[2])
default:
    quit("usage: switchboard-plugin-host --probe FILE | --serve FILE AGENT_TYPE (started by `switchboard serve`)", status: 2)
}
