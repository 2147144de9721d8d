import NIOCore
import NIOHTTP1

/// The HTTP side of one connection: collects each request with its body and routes it to the
/// first endpoint that claims its path; a JSON 404 for the rest. It also runs the connection's
/// deadlines (`HTTPDeadlines`) and closes it after a protocol error.
///
/// One per connection, on its event loop; not Sendable. Removed when the connection upgrades to WebSocket.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "herald-http"
    /// The body limit of paths no endpoint claims.
    static let defaultMaxBody = 64 * 1024

    private let endpoints: [any HTTPEndpoint]
    private var head: HTTPRequestHead?
    private var endpoint: (any HTTPEndpoint)?
    private var body = ByteBuffer()
    private var refused = false

    private let deadlines: HTTPDeadlines
    private var phase = Phase.idle
    /// When the current phase runs out; nil while answering.
    private var phaseDeadline: NIODeadline?
    /// The one timer of the connection, and when it fires. A new phase leaves it where it is
    /// unless it would fire too late: it fires at most `recheck` after it was armed, looks at
    /// the phase's deadline then, and re-arms itself while that lies ahead. A keep-alive request
    /// thus schedules nothing (it scheduled and cancelled three timers before, 2 % of the serve
    /// process under `benchmarks/points_add.py`).
    private var timer: (task: Scheduled<Void>, fires: NIODeadline)?
    /// An answer that closes the connection went out; nothing more is read.
    private var closing = false

    /// Where the connection is in its exchange; each phase but `answering` has a deadline.
    private enum Phase {
        case idle
        case readingHead(bytes: Int)
        case readingBody
        /// Requests read whose responses have not ended yet (more than one when pipelined).
        case answering(Int)
    }

    private let watcher: HTTPRequestBytesWatcher

    init(endpoints: [any HTTPEndpoint], deadlines: HTTPDeadlines, watcher: HTTPRequestBytesWatcher) {
        self.endpoints = endpoints
        self.deadlines = deadlines
        self.watcher = watcher
        watcher.connection = self
    }

    /// Kept for the byte watcher's calls, which come from another handler's context.
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        enter(.idle, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        disarm()
    }

    // MARK: Deadlines

    private func enter(_ phase: Phase, context: ChannelHandlerContext) {
        self.phase = phase
        let amount: TimeAmount?
        switch phase {
        case .idle: amount = deadlines.idle
        case .readingHead: amount = deadlines.head
        case .readingBody: amount = deadlines.body
        case .answering: amount = nil
        }
        let now = context.eventLoop.now  // the loop's clock: an EmbeddedEventLoop's is its own
        phaseDeadline = amount.map { now + $0 }
        // An armed timer fires by `now + recheck` at the latest, so before this phase's deadline
        // unless the deadlines are shorter than `recheck` (a configuration of tests): it stays.
        guard let phaseDeadline else { return }
        if let timer, timer.fires <= phaseDeadline { return }
        timer?.task.cancel()
        arm(for: phaseDeadline, context: context)
    }

    /// How long an armed timer may wait before it looks again: the shortest deadline, but not
    /// so short that a zero deadline spins the loop.
    private var recheck: TimeAmount { max(min(deadlines.head, deadlines.body, deadlines.idle), .milliseconds(100)) }

    private func arm(for deadline: NIODeadline, context: ChannelHandlerContext) {
        let fires = min(deadline, context.eventLoop.now + recheck)
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: fires) { [self] in
            timer = nil
            guard let phaseDeadline else { return }
            if phaseDeadline <= context.eventLoop.now { timedOut(context: context) } else { arm(for: phaseDeadline, context: context) }
        }
        timer = (task, fires)
    }

    private func disarm() {
        timer?.task.cancel()
        timer = nil
        phaseDeadline = nil
    }

    private func timedOut(context: ChannelHandlerContext) {
        phaseDeadline = nil
        switch phase {
        case .idle, .answering:
            context.close(promise: nil)
        case .readingHead, .readingBody:
            respondAndClose(context: context, status: .requestTimeout, code: "request_timeout", message: "the request took too long")
        }
    }

    /// The first bytes of a request start the head's deadline.
    func requestBytesWillArrive() {
        guard let context, case .idle = phase else { return }
        enter(.readingHead(bytes: 0), context: context)
    }

    /// Bytes the decoder has read without completing a head count towards its bound.
    func requestBytesDidArrive(_ count: Int) {
        guard let context, case .readingHead(let bytes) = phase else { return }
        phase = .readingHead(bytes: bytes + count)
        if bytes + count > deadlines.maxHeadBytes { refuseLargeHead(context: context) }
    }

    private func refuseLargeHead(context: ChannelHandlerContext) {
        respondAndClose(
            context: context, status: .requestHeaderFieldsTooLarge,
            code: "headers_too_large", message: "request head over \(deadlines.maxHeadBytes) bytes"
        )
    }

    /// An error answer after which the connection closes, whatever the request asked.
    ///
    /// Written as bytes beneath the HTTP handlers: the request it answers is incomplete, and NIO's
    /// pipelining handler refuses a response to a request it has not seen.
    private func respondAndClose(context: ChannelHandlerContext, status: HTTPResponseStatus, code: String, message: String) {
        guard !closing else { return }
        closing = true
        disarm()
        let body = errorBody(code: code, message: message)
        let response = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-type: application/json\r\n"
            + "content-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n" + body
        watcher.writeAndClose(ByteBuffer(string: response))
    }

    /// A response ended: the connection is idle again once every request read has its answer.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !closing, case .end = unwrapOutboundIn(data), case .answering(let waiting) = phase {
            if waiting > 1 { phase = .answering(waiting - 1) } else { enter(.idle, context: context) }
        }
        context.write(data, promise: promise)
    }

    /// NIO's `HTTPServerProtocolErrorHandler` has answered garbage with a 400 that says
    /// `Connection: close`; RFC 9112 (section 9.6) then requires the server to close. Other errors
    /// (a refused WebSocket upgrade, whose request is answered as plain HTTP) leave it open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError { context.close(promise: nil) }
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard head.headers.reduce(head.uri.utf8.count, { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
                <= deadlines.maxHeadBytes
            else { return refuseLargeHead(context: context) }
            switch phase {
            case .answering(let waiting): phase = .answering(waiting + 1)
            default: enter(.readingBody, context: context)
            }
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
            if case .readingBody = phase { enter(.answering(1), context: context) }
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
