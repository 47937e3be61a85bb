import Hummingbird
import Logging

/// Runs a Hummingbird router on an ephemeral loopback port for the length of a body: what
/// the mock model APIs share.
enum LoopbackServer {
    /// Starts `router` on `127.0.0.1:0`, runs `body` with the port, then stops the server
    /// (cutting any response still streaming) before returning.
    static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, label: String, _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw MockServerError(message: "The mock server '\(label)' did not start listening.")
            }
            let result: T
            do {
                result = try await body(port)
            } catch {
                group.cancelAll()
                while (try? await group.next()) != nil {}
                throw error
            }
            group.cancelAll()
            while (try? await group.next()) != nil {}
            return result
        }
    }
}
