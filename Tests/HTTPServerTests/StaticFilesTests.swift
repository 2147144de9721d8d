import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTPServer

/// The web root, read once and answered from memory, through a node's HTTP pipeline.
@Suite struct StaticFilesTests {
    /// A fresh web root: an index, a script in a folder, a hidden file and one of an unknown type.
    private func makeRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/client", withIntermediateDirectories: true)
        try "<!doctype html><title>t</title>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "export const a = 1;".write(toFile: root + "/client/lib.js", atomically: true, encoding: .utf8)
        try "secret".write(toFile: root + "/.env", atomically: true, encoding: .utf8)
        try "binary".write(toFile: root + "/tool.exe", atomically: true, encoding: .utf8)
        return root
    }

    private func get(_ files: StaticFiles, _ request: String) throws -> String {
        let channel = EmbeddedChannel()
        try HTTPNodeServer.configure(channel, endpoints: [files], deadlines: HTTPConnectionTests.deadlines)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: request))
        channel.embeddedEventLoop.run()
        var out = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
        return String(buffer: out)
    }

    @Test func servesTheIndexAtTheRootAndFilesByTheirPaths() throws {
        let files = try StaticFiles(root: try makeRoot())
        #expect(files.count == 2)
        let page = try get(files, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(page.hasPrefix("HTTP/1.1 200 OK"))
        #expect(page.lowercased().contains("content-type: text/html; charset=utf-8"))
        #expect(page.lowercased().contains("content-security-policy: default-src 'self'"))
        #expect(page.hasSuffix("<!doctype html><title>t</title>"))
        let script = try get(files, "GET /client/lib.js HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(script.lowercased().contains("content-type: text/javascript; charset=utf-8"))
        #expect(script.hasSuffix("export const a = 1;"))
        #expect(script.lowercased().contains("access-control-allow-origin: *"), "a module imported from another origin")
        #expect(!page.lowercased().contains("access-control-allow-origin"))
    }

    @Test func hiddenUnknownAndOutsidePathsAreNotServed() throws {
        let files = try StaticFiles(root: try makeRoot())
        for path in ["/.env", "/tool.exe", "/../index.html", "/client/../index.html", "/client/", "/nope.js"] {
            #expect(!files.handles(path: Substring(path)), "\(path)")
            let answer = try get(files, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 404"), "\(path): \(answer.prefix(40))")
        }
    }

    @Test func anUnchangedFileIs304AndHeadHasNoBody() throws {
        let files = try StaticFiles(root: try makeRoot())
        let first = try get(files, "GET /client/lib.js HTTP/1.1\r\nHost: x\r\n\r\n")
        let etag = try #require(first.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }?.dropFirst(5))
            .trimmingCharacters(in: .whitespaces)
        let again = try get(files, "GET /client/lib.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n")
        #expect(again.hasPrefix("HTTP/1.1 304"))
        #expect(!again.contains("export const"))
        let head = try get(files, "HEAD /client/lib.js HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200"))
        #expect(!head.contains("export const"))
        let post = try get(files, "POST /client/lib.js HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405"))
    }

    @Test func aMissingRootIsAnErrorInOneLine() {
        #expect(throws: StaticFilesError.self) { try StaticFiles(root: "/nonexistent-\(UUID().uuidString)") }
    }
}
