import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web page the daemon serves: one HTML file at `/` and its scripts, style sheet and
/// icon under `/ui/`, all without a token (they hold no secret; every API call the page
/// makes carries the token). The files are built into the binary (``builtInFiles``,
/// generated from `Sources/SwitchboardServer/WebPage/Files` by `Scripts/embed-web-page`);
/// ``init(directory:)`` reads them from a directory instead, for working on the page.
///
/// Every answer carries a strict Content-Security-Policy (scripts and styles only from the
/// daemon itself, no inline script, no `eval`, no frames) and `X-Content-Type-Options: nosniff`.
public struct WebPage: Sendable {
    /// One file of the page.
    struct File: Sendable {
        let contentType: String
        let body: String
    }

    /// The page's files by URL path (`/` for `index.html`, `/ui/<name>` for the others).
    let files: [String: File]

    /// The prefix of the page's asset paths.
    static let assetPrefix = "/ui/"

    /// The Content-Security-Policy of every page file.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The page built into the binary.
    public static let builtIn = WebPage(named: builtInFiles)

    /// The page from the files in `directory` (`index.html` and the assets beside it).
    /// - Throws: ``WebPageError`` when the directory cannot be read or has no `index.html`.
    public init(directory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw WebPageError("The web page directory '\(directory)' cannot be read: \(error.localizedDescription)")
        }
        var contents: [String: String] = [:]
        for name in names where Self.contentType(of: name) != nil {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
                throw WebPageError("The web page file '\(directory)/\(name)' cannot be read.")
            }
            contents[name] = String(decoding: data, as: UTF8.self)
        }
        guard contents["index.html"] != nil else {
            throw WebPageError("The web page directory '\(directory)' has no index.html.")
        }
        self.init(named: contents)
    }

    init(named contents: [String: String]) {
        var files: [String: File] = [:]
        for (name, body) in contents {
            guard let type = Self.contentType(of: name) else { continue }
            files[name == "index.html" ? "/" : Self.assetPrefix + name] = File(contentType: type, body: body)
        }
        self.files = files
    }

    /// The content type of a page file by its extension; `nil` for files the page does not serve.
    static func contentType(of name: String) -> String? {
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        return nil
    }

    /// Whether `path` is one the page may serve without a token (`/` and `/ui/…`).
    static func isPagePath(_ path: String) -> Bool {
        path == "/" || path.hasPrefix(assetPrefix)
    }

    /// Adds `GET` (and `HEAD`) routes for every file.
    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for (path, file) in files {
            let routePath = RouterPath(path)
            router.get(routePath) { _, _ in Self.response(file, includeBody: true) }
            router.head(routePath) { _, _ in Self.response(file, includeBody: false) }
        }
    }

    static func response(_ file: File, includeBody: Bool) -> Response {
        let bytes = ByteBuffer(string: file.body)
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            .cacheControl: "no-cache",
        ]
        headers[.contentLength] = String(bytes.readableBytes)
        if let referrerPolicy = HTTPField.Name("Referrer-Policy") { headers[referrerPolicy] = "no-referrer" }
        return Response(status: .ok, headers: headers, body: includeBody ? .init(byteBuffer: bytes) : .init())
    }
}

/// The web page's files could not be read.
public struct WebPageError: Error, CustomStringConvertible {
    /// What went wrong, as a sentence.
    public var description: String
    init(_ description: String) { self.description = description }
}
