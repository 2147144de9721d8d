import NIOCore
import NIOHTTP1

/// The HTTP side of one connection: collects each request with its body and routes it to the
/// first endpoint that claims its path; a JSON 404 for the rest.
///
/// One per connection, on its event loop; not Sendable. Removed when the connection upgrades to WebSocket.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "herald-http"
    /// The body limit of paths no endpoint claims.
    static let defaultMaxBody = 64 * 1024

    private let endpoints: [any HTTPEndpoint]
    private var head: HTTPRequestHead?
    private var endpoint: (any HTTPEndpoint)?
    private var body = ByteBuffer()
    private var refused = false

    init(endpoints: [any HTTPEndpoint]) {
        self.endpoints = endpoints
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            let path = head.path
            endpoint = endpoints.first { $0.handles(path: path) }
            body.clear()
            refused = false
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > bodyLimit {
                refuseTooLarge(context: context, head: head)
            }
        case .body(var part):
            guard let head, !refused else { return }
            if body.readableBytes + part.readableBytes > bodyLimit {
                refuseTooLarge(context: context, head: head)
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            guard let head, !refused else { return }
            self.head = nil
            if let endpoint {
                endpoint.handle(head: head, body: body, channel: context.channel)
            } else {
                HTTPResponder(channel: context.channel, request: head)
                    .respond(.notFound, json: errorBody(code: "not_found", message: "no such endpoint"))
            }
        }
    }

    private var bodyLimit: Int { endpoint?.maxBodySize ?? Self.defaultMaxBody }

    /// 413 before reading the rest; the connection closes since the body is not drained.
    private func refuseTooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        refused = true
        var request = head
        request.headers.replaceOrAdd(name: "connection", value: "close")
        HTTPResponder(channel: context.channel, request: request)
            .respond(.payloadTooLarge, json: errorBody(code: "payload_too_large", message: "request body over \(bodyLimit) bytes"))
    }
}
