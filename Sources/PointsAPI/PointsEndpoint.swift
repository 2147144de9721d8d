import HTTPServer
import HeraldAuth
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import PointsLedger
import SocketIO

/// The points API (SPEC section 5) at `/api/`: hummingbird's router and middleware behind the
/// node's NIO listener.
///
/// The listener already owns the port for `/socket.io/` under `herald serve`, so instead of a
/// second hummingbird server this endpoint hands each complete request to the router's
/// responder and writes back its response.
public struct PointsEndpoint: HTTPEndpoint {
    /// SPEC 5: bodies over 64 KiB are refused with 413 before anything else.
    public static let maxBodySize = 64 * 1024

    private let responder: RouterResponder<BasicRequestContext>
    private let logger: Logger

    public init(
        ledger: any Ledger,
        authority: TokenAuthority,
        presence: any Adapter,
        logger: Logger
    ) {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(APIErrorMiddleware())
        PointsRoutes(ledger: ledger, authority: authority, presence: presence, openAPI: OpenAPIDocument.yaml)
            .register(on: router)
        self.responder = router.buildResponder()
        self.logger = logger
    }

    public func handles(path: Substring) -> Bool {
        path == "/api" || path.hasPrefix("/api/")
    }

    public var maxBodySize: Int { Self.maxBodySize }

    /// Runs the router in a task on the connection's own event loop: the request is parsed there,
    /// the task resumes there when the ledger answers, and the answer is written from there, so
    /// a write crosses threads only to the ledger's writer and back.
    public func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let answer = HTTPServer.HTTPResponder(channel: channel, request: head)
        let responder = self.responder, logger = self.logger
        Task(executorPreference: EventLoopTaskExecutor.of(channel.eventLoop)) {
            do {
                let request = Request(head: try HTTPRequest(head, secure: false, splitCookie: false), body: RequestBody(buffer: body))
                let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
                let response = try await responder.respond(to: request, context: context)
                let collector = BodyCollector()
                try await response.body.write(collector.writer)
                answer.respond(
                    HTTPResponseStatus(statusCode: Int(response.status.code)),
                    headers: HTTPHeaders(response.headers),
                    body: collector.buffer.withLockedValue { $0 }
                )
            } catch {
                logger.error("[API] \(head.method) \(head.uri) failed: \(error)")
                answer.respond(.badRequest, json: errorBody(code: "bad_request", message: "malformed request"))
            }
        }
    }
}
