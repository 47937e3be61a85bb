import Foundation
import NIOHTTP1
import Testing
@testable import SwitchboardServer
import SwitchboardAdapterAPI
import SwitchboardAgentTesting
import SwitchboardTesting

/// The web page the daemon serves: its files without a token, their headers, and the
/// WebSocket token a browser sends as a subprotocol.
@Suite("Web page", .serialized, .childProcessGate)
struct WebPageTests {
    static let agents = LiveChatTests.scripted(#"[{"echo": true}]"#)

    /// The files the page is made of, as they are in the repository.
    static var sourceDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/SwitchboardServer/WebPage/Files").path
    }

    @Test("The files built into the binary are those in WebPage/Files (run Scripts/embed-web-page after changing them)")
    func builtInMatchesSources() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.sourceDirectory)
            .filter { WebPage.contentType(of: $0) != nil }.sorted()
        #expect(names == WebPage.builtInFiles.keys.sorted())
        for name in names {
            let text = try String(contentsOfFile: Self.sourceDirectory + "/" + name, encoding: .utf8)
            #expect(WebPage.builtInFiles[name] == text, "\(name) differs from its built-in copy: run Scripts/embed-web-page")
        }
    }

    @Test("/ and /ui/… are served without a token, with a strict CSP, nosniff and their content types; the API still needs the token")
    func servedWithoutToken() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let page = try RawHTTP.exchange(port: daemon.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(page.status == 200, "\(page.head)")
        let head = page.head.lowercased()
        #expect(head.contains("content-type: text/html; charset=utf-8"))
        #expect(head.contains("content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"))
        #expect(head.contains("x-content-type-options: nosniff"))
        #expect(head.contains("referrer-policy: no-referrer"))
        #expect(page.body.contains(#"<script type="module" src="/ui/app.js"></script>"#))
        // No inline script or style: everything comes from /ui/.
        #expect(!page.body.contains("<script>") && !page.body.contains("<style") && !page.body.contains("style="))
        for (path, type) in [("/ui/app.js", "text/javascript; charset=utf-8"), ("/ui/style.css", "text/css; charset=utf-8"), ("/ui/icon.svg", "image/svg+xml")] {
            let reply = try RawHTTP.exchange(port: daemon.port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(reply.status == 200, "\(path): \(reply.head)")
            #expect(reply.head.lowercased().contains("content-type: \(type)"), "\(path): \(reply.head)")
            #expect(reply.head.lowercased().contains("x-content-type-options: nosniff"))
        }
        let headReply = try RawHTTP.exchange(port: daemon.port, "HEAD /ui/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(headReply.status == 200 && headReply.body.isEmpty)
        // Anything else under /ui/ is not there, and the API keeps its token.
        #expect(try await daemon.http(.GET, "/ui/missing.js", token: .some(nil)).status == 404)
        #expect(try await daemon.http(.GET, "/v1/sessions", token: .some(nil)).status == 401)
        #expect(try await daemon.http(.POST, "/", token: .some(nil)).status == 401)
        try await daemon.stop()
    }

    @Test("A browser's WebSocket carries the token as the subprotocol switchboard.bearer.<base64url>; the daemon selects 'switchboard'")
    func subprotocolToken() async throws {
        let daemon = try await LiveDaemon(agents: Self.agents)
        let encoded = Data(daemon.token.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let origin = "Origin: http://127.0.0.1:\(daemon.port)"
        let accepted = try RawHTTP.exchange(port: daemon.port, RawHTTP.upgrade("/v1/live/w", headers: [
            origin, "Sec-WebSocket-Protocol: switchboard, switchboard.bearer.\(encoded)",
        ]))
        #expect(accepted.status == 101, "\(accepted.head)")
        #expect(accepted.head.lowercased().contains("sec-websocket-protocol: switchboard\r\n") || accepted.head.lowercased().hasSuffix("sec-websocket-protocol: switchboard"), "\(accepted.head)")
        #expect(!accepted.head.contains(encoded), "the token is not echoed")
        let wrong = try RawHTTP.exchange(port: daemon.port, RawHTTP.upgrade("/v1/live/w", headers: [
            origin, "Sec-WebSocket-Protocol: switchboard, switchboard.bearer.bm90LXRoZS10b2tlbg",
        ]))
        #expect(wrong.status == 400)
        let garbled = try RawHTTP.exchange(port: daemon.port, RawHTTP.upgrade("/v1/live/w", headers: [
            origin, "Sec-WebSocket-Protocol: switchboard, switchboard.bearer.%%%",
        ]))
        #expect(garbled.status == 400)
        // A foreign page is refused even with the right token.
        let foreign = try RawHTTP.exchange(port: daemon.port, RawHTTP.upgrade("/v1/live/w", headers: [
            "Origin: http://evil.example", "Sec-WebSocket-Protocol: switchboard, switchboard.bearer.\(encoded)",
        ]))
        #expect(foreign.status == 400)
        try await daemon.stop()
    }

    @Test("base64url without padding decodes; anything else does not")
    func base64URL() {
        #expect(LiveChatUpgrade.decodeBase64URL("dG9rZW4tPz4_") == "token-?>?")
        #expect(LiveChatUpgrade.decodeBase64URL("YWI") == "ab")
        #expect(LiveChatUpgrade.decodeBase64URL("YWI=") == nil)
        #expect(LiveChatUpgrade.decodeBase64URL("a b") == nil)
    }
}
