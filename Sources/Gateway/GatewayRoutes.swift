import EngineIO
import NIOCore
import NIOHTTP1
import SocketIO

/// What the node answers over plain HTTP; shared by every connection.
struct GatewayRoutes: Sendable {
    let engine: EngineServer
    let adapter: LocalAdapter
    let metrics: GatewayMetrics

    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let path = head.path
        if engine.handles(path: path) {
            engine.handle(request: head, body: body, channel: channel)
            return
        }
        let responder = HTTPResponder(channel: channel, request: head)
        switch (head.method, path) {
        case (.GET, "/healthz"):
            responder.respond(.ok, json: #"{"status":"ok"}"#)
        case (.GET, "/readyz"):
            // `serve` has no dependency that can be down; cluster nodes add Redis and the database.
            responder.respond(.ok, json: #"{"status":"ready"}"#)
        case (.GET, "/metrics"):
            let metrics = self.metrics, adapter = self.adapter
            channel.eventLoop.makeFutureWithTask {
                await metrics.render(adapter: adapter)
            }.whenSuccess { text in
                responder.respond(.ok, contentType: "text/plain; version=0.0.4", body: ByteBuffer(bytes: text))
            }
        default:
            responder.respond(.notFound, json: #"{"error":{"code":"not_found","message":"no such endpoint"}}"#)
        }
    }
}
