import NIOCore
import NIOHTTP1

/// `GET /healthz` (the process is up), `GET /readyz` (its dependencies answer) and
/// `GET /metrics` (Prometheus text), on every node (SPEC section 5).
public struct OperationsEndpoint: HTTPEndpoint {
    private let isReady: @Sendable () async -> Bool
    private let metrics: @Sendable () async -> [UInt8]

    public init(isReady: @escaping @Sendable () async -> Bool, metrics: @escaping @Sendable () async -> [UInt8]) {
        self.isReady = isReady
        self.metrics = metrics
    }

    public func handles(path: Substring) -> Bool {
        path == "/healthz" || path == "/readyz" || path == "/metrics"
    }

    public var maxBodySize: Int { 0 }

    public func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let responder = HTTPResponder(channel: channel, request: head)
        guard head.method == .GET || head.method == .HEAD else {
            responder.respond(.methodNotAllowed, json: errorBody(code: "method_not_allowed", message: "use GET"))
            return
        }
        switch head.path {
        case "/healthz":
            responder.respond(.ok, json: #"{"status":"ok"}"#)
        case "/readyz":
            let isReady = self.isReady
            channel.eventLoop.makeFutureWithTask { await isReady() }.whenSuccess { ready in
                if ready {
                    responder.respond(.ok, json: #"{"status":"ready"}"#)
                } else {
                    responder.respond(.serviceUnavailable, json: #"{"status":"not ready"}"#)
                }
            }
        default:
            let metrics = self.metrics
            channel.eventLoop.makeFutureWithTask { await metrics() }.whenSuccess { text in
                responder.respond(.ok, contentType: "text/plain; version=0.0.4", body: ByteBuffer(bytes: text))
            }
        }
    }
}
