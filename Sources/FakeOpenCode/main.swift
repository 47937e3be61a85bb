import Foundation
import Hummingbird
import NIOCore
import SwitchboardAdapterAPI

// A fake `opencode serve` for tests: the real routes and event shapes, strict like the real
// server (see FakeOpenCodeOptions and FakeTurn). Started as `fake-opencode serve --port P
// --hostname H`, usually through a script named `opencode` on PATH.

/// Writes a line to stdout unbuffered (stdout is a log file, not a terminal).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let options = FakeOpenCodeOptions(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
say("fake opencode starting (pid \(getpid()), protocol \(options.version), delta events: \(options.deltaEvents))")
if let reason = options.failStart {
    say("Error: \(reason)")
    exit(1)
}
if options.startDelay > .zero { try await Task.sleep(for: options.startDelay) }
let state = FakeOpenCodeState(options: options)

func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.jsonText)))
}

func notFound(_ id: String) -> Response {
    json(.object(["name": .string("NotFoundError"), "data": .object(["message": .string("Session not found: \(id)")])]), status: .notFound)
}

func sessionJSON(_ id: String) -> JSONValue {
    .object(["id": .string(id), "title": .string("Fake session"), "directory": .string(FileManager.default.currentDirectoryPath),
             "time": .object(["created": .int(0), "updated": .int(0)])])
}

func body(_ request: Request) async throws -> String {
    String(buffer: try await request.body.collect(upTo: 1 << 20))
}

/// Basic auth when a password is set, and a log line per request.
struct AuthAndLog<Context: RequestContext>: RouterMiddleware {
    let expected: String?
    let state: FakeOpenCodeState
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        await state.log("\(request.method) \(request.uri.path)")
        if let expected, request.headers[.authorization] != expected {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"Secure Area\""])
        }
        return try await next(request, context)
    }
}

let expected = options.password.map { "Basic " + Data("\(options.username):\($0)".utf8).base64EncodedString() }
let router = Router()
router.middlewares.add(AuthAndLog(expected: expected, state: state))
router.get("/global/health") { _, _ in json(.object(["healthy": .bool(true), "version": .string("\(options.version).0")])) }
router.get("/session") { _, _ in json(.array(await state.allSessions.map(sessionJSON))) }
router.post("/session") { request, _ in
    _ = try await body(request)
    return json(sessionJSON(await state.createSession()))
}
router.get("/session/{id}") { _, context in
    let id = context.parameters.get("id") ?? ""
    return await state.hasSession(id) ? json(sessionJSON(id)) : notFound(id)
}
router.post("/session/{id}/prompt_async") { request, context in
    let id = context.parameters.get("id") ?? ""
    let text = try await body(request)
    await state.log("BODY \(text)")
    guard await state.hasSession(id) else { return notFound(id) }
    guard let value = try? JSONValue(parsing: text), let parts = value["parts"]?.arrayValue else {
        return json(.object(["name": .string("BadRequest"), "data": .object(["message": .string("invalid body")])]), status: .badRequest)
    }
    let prompt = parts.compactMap { $0["text"]?.stringValue }.joined()
    let generated = await state.newID("msg")
    let messageID = value["messageID"]?.stringValue ?? generated
    let turn = FakeTurn(
        state: state, session: id, userMessageID: messageID, text: prompt,
        providerID: value["model"]?["providerID"]?.stringValue ?? "fake-provider",
        modelID: value["model"]?["modelID"]?.stringValue ?? "fake-default-model"
    )
    Task { await turn.run() }
    return Response(status: .noContent)
}
router.post("/session/{id}/abort") { request, context in
    let id = context.parameters.get("id") ?? ""
    _ = try await body(request)
    guard await state.hasSession(id) else { return notFound(id) }
    await state.abort(id)
    await state.abortRequests(of: id)
    return json(.bool(true))
}
addRequestRoutes(to: router, state: state)
router.get("/event") { _, _ in
    let (subscriber, stream) = await state.subscribe()
    return Response(
        status: .ok,
        headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
        body: ResponseBody { writer in
            defer { Task { await state.unsubscribe(subscriber) } }
            let connected = JSONValue.object(["type": .string("server.connected"), "properties": .object([:])]).jsonText
            try await writer.write(ByteBuffer(string: "data: \(connected)\n\n"))
            for await event in stream {
                try await writer.write(ByteBuffer(string: "data: \(event)\n\n"))
            }
            try await writer.finish(nil)
        }
    )
}

let app = Application(
    router: router,
    configuration: .init(address: .hostname(options.hostname, port: options.port), serverName: "opencode"),
    onServerRunning: { _ in
        say("opencode server listening on http://\(options.hostname):\(options.port)")
        // Where the tests find this server, to call it as another client would.
        if let dir = options.dataDirectory {
            try? "\(options.hostname) \(options.port)\n".write(toFile: dir + "/listening.txt", atomically: true, encoding: .utf8)
        }
    }
)
// Like the real server, stop at once on SIGTERM, without draining open event streams.
signal(SIGTERM) { _ in _exit(0) }
try await app.run()
