import NIOCore
import NIOHTTP1

import Foundation

/// The web app and the client library (SPEC section 8): every file under a directory, read once
/// at start and answered from memory.
///
/// Read at start, not per request: the files are small (the socket.io-client bundle is the
/// largest, ~50 KB), an event loop must never wait for the disk, and a request can only ever get
/// a file that was there at start (a dictionary lookup: no path is joined, so `..` reaches nothing).
public struct StaticFiles: HTTPEndpoint {
    struct File: Sendable {
        let contentType: String
        let body: ByteBuffer
        let etag: String
    }

    /// The files by URL path (`/index.html`, `/client/herald-notifications.js`); `/` is `index.html`.
    private let files: [String: File]

    /// No file is served past this size.
    static let maxFileSize = 4 << 20

    /// Reads every file under `root` (hidden ones and those of unknown types left out).
    public init(root: String) throws {
        let base = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        var isRoot: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base.path, isDirectory: &isRoot), isRoot.boolValue,
              let walker = FileManager.default.enumerator(atPath: base.path)
        else {
            throw StaticFilesError("cannot read the web root \(root)")
        }
        var files: [String: File] = [:]
        while let relative = walker.nextObject() as? String {
            guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }),
                  let contentType = Self.contentType(of: relative)
            else { continue }
            let path = base.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path), data.count <= Self.maxFileSize
            else { continue }
            files["/" + relative] = File(contentType: contentType, body: ByteBuffer(bytes: data), etag: Self.etag(of: data))
        }
        self.files = files
    }

    /// How many files are served.
    public var count: Int { files.count }

    public func handles(path: Substring) -> Bool {
        file(at: path) != nil
    }

    public var maxBodySize: Int { 0 }

    public func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let responder = HTTPResponder(channel: channel, request: head)
        guard let file = file(at: head.path) else {
            responder.respond(.notFound, json: errorBody(code: "not_found", message: "no such file"))
            return
        }
        guard head.method == .GET || head.method == .HEAD else {
            responder.respond(.methodNotAllowed, json: errorBody(code: "method_not_allowed", message: "use GET"))
            return
        }
        // Revalidated on every load (`no-cache`), answered 304 while unchanged: a new release is
        // seen at once, an unchanged page costs no body.
        var headers: HTTPHeaders = ["cache-control": "no-cache", "etag": file.etag, "x-content-type-options": "nosniff"]
        if head.headers["if-none-match"].contains(where: { $0.contains(file.etag) }) {
            responder.respond(.notModified, headers: headers)
            return
        }
        if !file.contentType.hasPrefix("text/html") {
            // Scripts and styles are public: an app on another origin imports the client library
            // (and the bundle it imports) as a module, which the browser loads with CORS.
            headers.add(name: "access-control-allow-origin", value: "*")
        }
        if file.contentType.hasPrefix("text/html") {
            // The page loads only its own scripts and styles and talks only to its own origin.
            headers.add(
                name: "content-security-policy",
                value: "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'"
            )
        }
        responder.respond(.ok, contentType: file.contentType, headers: headers, body: head.method == .HEAD ? nil : file.body)
    }

    private func file(at path: Substring) -> File? {
        path == "/" ? files["/index.html"] : files[String(path)]
    }

    static func contentType(of path: String) -> String? {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json", "map": "application/json"
        case "txt": "text/plain; charset=utf-8"
        default: nil
        }
    }

    /// A strong validator of the file's bytes (FNV-1a, 64 bits): enough to tell versions apart.
    static func etag(of data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(data.count)\""
    }
}

/// A web root that could not be read, told in one line.
public struct StaticFilesError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
