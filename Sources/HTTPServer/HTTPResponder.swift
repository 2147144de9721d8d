import NIOCore
import NIOHTTP1

/// Answers one HTTP request from any event loop.
///
/// A long-poll is answered later, from the session's loop, so the answer cannot be bound to the
/// request handler's context; it goes through the channel, whose writes NIO hops to its loop.
public struct HTTPResponder: Sendable {
    public let channel: any Channel
    let version: HTTPVersion
    let keepAlive: Bool
    /// Headers every answer to this request carries (CORS).
    var baseHeaders: HTTPHeaders

    public init(channel: any Channel, request: HTTPRequestHead) {
        self.channel = channel
        self.version = request.version
        self.keepAlive = request.isKeepAlive
        self.baseHeaders = HTTPHeaders()
    }

    /// Adds a header to every answer made by this responder.
    public mutating func addHeader(name: String, value: String) {
        baseHeaders.add(name: name, value: value)
    }

    /// Sends a complete response and, unless keep-alive, closes the connection.
    public func respond(
        _ status: HTTPResponseStatus,
        contentType: String? = nil,
        headers extra: HTTPHeaders = [:],
        body: ByteBuffer? = nil
    ) {
        var headers = baseHeaders
        headers.add(contentsOf: extra)
        if let contentType { headers.replaceOrAdd(name: "content-type", value: contentType) }
        headers.replaceOrAdd(name: "content-length", value: String(body?.readableBytes ?? 0))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if let body, body.readableBytes > 0 {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        }
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        if !keepAlive {
            let channel = self.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Sends a JSON body.
    public func respond(_ status: HTTPResponseStatus, json: String) {
        respond(status, contentType: "application/json", body: ByteBuffer(string: json))
    }
}
