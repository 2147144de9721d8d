import EngineIO
import NIOCore
import NIOHTTP1

/// The HTTP side of a node: `/socket.io/` long-polling, `/healthz`, `/readyz`, `/metrics`, and
/// a JSON 404 for everything else.
///
/// One per connection, on its event loop; not Sendable. Removed when the connection upgrades to WebSocket.
final class GatewayHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "herald-http"
    /// Bodies of routes other than `/socket.io/` stay small.
    static let maxOtherBody = 64 * 1024

    private let routes: GatewayRoutes
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var refused = false

    init(routes: GatewayRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            refused = false
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > bodyLimit(head) {
                refuseTooLarge(context: context, head: head)
            }
        case .body(var part):
            guard let head, !refused else { return }
            if body.readableBytes + part.readableBytes > bodyLimit(head) {
                refuseTooLarge(context: context, head: head)
            } else {
                body.writeBuffer(&part)
            }
        case .end:
            guard let head, !refused else { return }
            self.head = nil
            routes.handle(head: head, body: body, channel: context.channel)
        }
    }

    private func bodyLimit(_ head: HTTPRequestHead) -> Int {
        routes.engine.handles(path: head.path) ? routes.engine.configuration.maxPayload : Self.maxOtherBody
    }

    /// 413 before reading the rest; the connection closes since the body is not drained.
    private func refuseTooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        refused = true
        var request = head
        request.headers.replaceOrAdd(name: "connection", value: "close")
        HTTPResponder(channel: context.channel, request: request)
            .respond(.payloadTooLarge, json: #"{"error":{"code":"payload_too_large","message":"request body too large"}}"#)
    }
}

extension HTTPRequestHead {
    /// The path without the query.
    var path: Substring { uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
}
