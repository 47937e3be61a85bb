import SwitchboardAdapterAPI

/// The servers of this plugin process, one per ``ServerKey``, shared by the sessions that
/// use them.
///
/// - Concurrent requests for one key wait for a single start.
/// - A server found dead is started again on the next request.
/// - Each session ``acquire(_:)``s its key once and ``release(_:)``s it on dispose; the
///   server is stopped when its last user releases it.
actor ServerPool {
    /// The pool of the loaded plugin.
    static let shared = ServerPool()

    private struct Entry {
        var users = 0
        var server: OpenCodeServer?
        var starting: Task<OpenCodeServer, any Error>?
    }

    private var entries: [ServerKey: Entry] = [:]

    /// Registers one more user of `key` and returns its live server, starting it if needed.
    func acquire(_ key: ServerKey) async throws -> OpenCodeServer {
        entries[key, default: Entry()].users += 1
        do {
            return try await server(for: key)
        } catch {
            await release(key)
            throw error
        }
    }

    /// The live server for `key` (started again if it died). The key must be acquired.
    func server(for key: ServerKey) async throws -> OpenCodeServer {
        if let server = entries[key]?.server, server.isAlive { return server }
        if let starting = entries[key]?.starting { return try await starting.value }
        let dead = entries[key]?.server
        let task = Task<OpenCodeServer, any Error> {
            if let dead { await dead.stop() }
            return try await OpenCodeServer.launch(key)
        }
        entries[key, default: Entry()].starting = task
        entries[key]?.server = nil
        do {
            let server = try await task.value
            entries[key]?.starting = nil
            if entries[key] == nil || entries[key]!.users == 0 {
                // Everyone left while it started.
                entries[key] = nil
                await server.stop()
                throw AdapterError(.invalidState, "The session was disposed while its OpenCode server started.")
            }
            entries[key]?.server = server
            return server
        } catch {
            entries[key]?.starting = nil
            throw error
        }
    }

    /// One user of `key` is done; the last one stops the server.
    func release(_ key: ServerKey) async {
        guard var entry = entries[key] else { return }
        entry.users -= 1
        guard entry.users <= 0 else { entries[key] = entry; return }
        entries[key] = entry.starting == nil ? nil : Entry(users: 0, server: nil, starting: entry.starting)
        if let server = entry.server { await server.stop() }
    }
}
