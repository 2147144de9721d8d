import ExtrasBase64
import HTTPServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The `/socket.io/` endpoint: handshakes, long-polling requests and WebSocket upgrades.
///
/// Shared by every event loop. Only polling sessions are kept in its table (a polling request
/// names its session by `sid`); a WebSocket session belongs to its connection alone.
public final class EngineServer: HTTPEndpoint {
    public let configuration: EngineConfiguration
    public let path: String
    private let logger: Logger
    private let sessions: NIOLockedValueBox<[String: NIOLoopBound<EngineSocket>]>
    /// What every session calls when it ends; made once, so that no session holds a closure
    /// context of its own.
    private let forgetSession: @Sendable (EngineSocket) -> Void
    /// One per event loop: every session of a loop waits for its heartbeat in the same queue.
    private let heartbeatQueues = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<HeartbeatQueue>]>([:])
    private let onConnection: @Sendable (EngineSocket) -> Void

    /// `onConnection` runs on the new session's event loop and sets its delegate.
    public init(
        configuration: EngineConfiguration,
        path: String = "/socket.io/",
        logger: Logger,
        onConnection: @escaping @Sendable (EngineSocket) -> Void
    ) {
        self.configuration = configuration
        self.path = path
        self.logger = logger
        self.onConnection = onConnection
        let sessions = NIOLockedValueBox<[String: NIOLoopBound<EngineSocket>]>([:])
        self.sessions = sessions
        forgetSession = { socket in sessions.withLockedValue { _ = $0.removeValue(forKey: socket.id) } }
    }

    /// Whether a request path belongs to this endpoint.
    public func handles(path requestPath: Substring) -> Bool {
        requestPath == path || requestPath + "/" == path
    }

    /// A polling POST may carry up to `maxPayload` bytes.
    public var maxBodySize: Int { configuration.maxPayload }

    /// The number of long-polling sessions (for tests and metrics).
    public var pollingSessionCount: Int { sessions.withLockedValue { $0.count } }

    // MARK: HTTP long-polling

    /// Answers an HTTP request to the endpoint; `body` is the complete request body.
    public func handle(head request: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let origin = request.headers.first(name: "origin")
        let responder = makeResponder(channel: channel, request: request, origin: origin)
        if request.method == .OPTIONS {
            var headers = HTTPHeaders()
            headers.add(name: "access-control-allow-methods", value: "GET, POST, OPTIONS")
            let requested = request.headers.first(name: "access-control-request-headers")
            headers.add(name: "access-control-allow-headers", value: requested ?? "content-type, authorization")
            headers.add(name: "access-control-max-age", value: "86400")
            responder.respond(.noContent, headers: headers)
            return
        }
        let query = QueryItems(uri: request.uri)
        if let refusal = EngineHTTPError.check(query: query, origin: origin, cors: configuration.cors) {
            refusal.respond(with: responder)
            return
        }
        guard query["transport"] == TransportName.polling.rawValue else {
            // A WebSocket handshake that did not carry the Upgrade headers.
            EngineHTTPError.badRequest.respond(with: responder)
            return
        }
        guard let sid = query["sid"] else {
            guard request.method == .GET else {
                EngineHTTPError.badHandshakeMethod.respond(with: responder)
                return
            }
            openPollingSession(request: request, channel: channel, responder: responder)
            return
        }
        guard let session = sessions.withLockedValue({ $0[sid] }) else {
            EngineHTTPError.unknownSession.respond(with: responder)
            return
        }
        let method = request.method
        session.eventLoop.execute {
            let socket = session.value
            guard !socket.isClosed, let polling = socket.transport as? PollingTransport else {
                EngineHTTPError.badRequest.respond(with: responder)
                return
            }
            switch method {
            case .GET:
                if !polling.poll(responder) {
                    // Two GETs at once: the client is broken; Node closes the session too.
                    EngineHTTPError.badRequest.respond(with: responder)
                    socket.close(reason: .transportError, notifyPeer: false)
                }
            case .POST:
                do {
                    for packet in try PollingPayload.decode(body) {
                        socket.receive(packet, from: polling)
                    }
                    responder.respond(.ok, contentType: "text/html", body: ByteBuffer(string: "ok"))
                } catch {
                    EngineHTTPError.badRequest.respond(with: responder)
                    socket.close(reason: .parseError, notifyPeer: false)
                }
            default:
                EngineHTTPError.badRequest.respond(with: responder)
            }
        }
    }

    /// A responder whose answers carry the CORS headers for the request's origin.
    private func makeResponder(channel: any Channel, request: HTTPRequestHead, origin: String?) -> HTTPResponder {
        var responder = HTTPResponder(channel: channel, request: request)
        if let allowed = configuration.cors.allowOriginHeader(for: origin) {
            responder.addHeader(name: "access-control-allow-origin", value: allowed)
            if allowed != "*" { responder.addHeader(name: "vary", value: "Origin") }
        }
        return responder
    }

    private func openPollingSession(request: HTTPRequestHead, channel: any Channel, responder: HTTPResponder) {
        let eventLoop = channel.eventLoop
        let transport = PollingTransport(eventLoop: eventLoop, maxQueuedBytes: configuration.maxQueuedBytes)
        let socket = makeSocket(request: request, channel: channel, transport: transport)
        transport.socket = socket
        sessions.withLockedValue { $0[socket.id] = NIOLoopBound(socket, eventLoop: eventLoop) }
        onConnection(socket)
        socket.open(upgrades: [.websocket])
        _ = transport.poll(responder)
    }

    private func makeSocket(request: HTTPRequestHead, channel: any Channel, transport: any EngineTransport) -> EngineSocket {
        let handshake = HandshakeRequest(
            authorization: request.headers.first(name: "authorization"),
            remoteAddress: channel.remoteAddress?.ipAddress
        )
        return EngineSocket(
            id: Self.makeSessionID(),
            handshake: handshake,
            transport: transport,
            heartbeats: heartbeats(of: channel.eventLoop),
            didClose: forgetSession
        )
    }

    /// The heartbeat queue of `eventLoop`'s sessions, made on its first session.
    private func heartbeats(of eventLoop: any EventLoop) -> HeartbeatQueue {
        heartbeatQueues.withLockedValue { queues in
            if let queue = queues[ObjectIdentifier(eventLoop)] { return queue.value }
            let queue = HeartbeatQueue(eventLoop: eventLoop, configuration: configuration)
            queues[ObjectIdentifier(eventLoop)] = NIOLoopBound(queue, eventLoop: eventLoop)
            return queue
        }
    }

    /// 11 random bytes (88 bits) in base64url: 15 characters.
    ///
    /// Node's `base64id` takes 15 bytes (20 characters), but a Swift string of more than 15 bytes
    /// lives on the heap, and every socket keeps three ids (its session's, its own, its recovery
    /// pid): ~200 bytes of each idle connection. Ids are opaque to clients, and 88 random bits are
    /// beyond guessing (OWASP asks 64 of a session id).
    ///
    /// Two 64-bit draws from the system generator, of which 11 bytes are used: each draw is a
    /// `getrandom` call, and a byte at a time made 33 of them per connect (perf).
    public static func makeSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bits = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeBytes(of: &bits) { raw in
            Base64.encodeToString(bytes: raw.prefix(11), options: [.base64UrlAlphabet, .omitPaddingCharacter])
        }
    }

    // MARK: WebSocket

    /// NIO's WebSocket upgrader for this endpoint; frames up to `maxPayload` are accepted.
    public func makeUpgrader() -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maxPayload,
            // The session's handler answers the decoder's errors: one handler less per connection.
            automaticErrorHandling: false,
            shouldUpgrade: { [self] channel, head in
                channel.eventLoop.makeSucceededFuture(shouldUpgrade(head) ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { [self] channel, head in
                channel.eventLoop.makeCompletedFuture {
                    try startWebSocket(channel: channel, request: head)
                }
            }
        )
    }

    /// A refused upgrade falls through to `handle(head:body:channel:)`, which answers the Engine.IO error.
    private func shouldUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard handles(path: head.uri.split(separator: "?", maxSplits: 1).first ?? "") else { return false }
        let query = QueryItems(uri: head.uri)
        guard EngineHTTPError.check(query: query, origin: head.headers.first(name: "origin"), cors: configuration.cors) == nil,
              query["transport"] == TransportName.websocket.rawValue
        else { return false }
        if let sid = query["sid"] {
            return sessions.withLockedValue { $0[sid] != nil }
        }
        return true
    }

    private func startWebSocket(channel: any Channel, request: HTTPRequestHead) throws {
        let handler = try Self.addWebSocketHandlers(to: channel, maxPayload: configuration.maxPayload)
        let transport = WebSocketTransport(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        let sid = QueryItems(uri: request.uri)["sid"]
        if let sid, let session = sessions.withLockedValue({ $0[sid] }) {
            // An upgrade of a polling session, which may live on another event loop.
            handler.attach(session: session, transport: transport)
            session.eventLoop.execute {
                if !session.value.beginUpgrade(to: transport) {
                    transport.close(notifyPeer: false)
                }
            }
        } else if sid == nil {
            let socket = makeSocket(request: request, channel: channel, transport: transport)
            handler.attach(session: NIOLoopBound(socket, eventLoop: channel.eventLoop), transport: transport)
            onConnection(socket)
            socket.open(upgrades: [])
        } else {
            // The session ended between the check and the upgrade.
            transport.close(notifyPeer: false)
        }
    }

    /// The handler above NIO's frame decoder and encoder (which the upgrader installs): RFC 6455's
    /// refusals, fragments merged into messages bounded like one frame, and the session.
    static func addWebSocketHandlers(to channel: any Channel, maxPayload: Int) throws -> EngineWebSocketHandler {
        let handler = EngineWebSocketHandler(maxMessageBytes: maxPayload)
        try channel.pipeline.syncOperations.addHandler(handler)
        return handler
    }

    // MARK: Shutdown

    /// Closes every polling session with a close packet (WebSocket sessions are closed by their owner).
    public func closePollingSessions() {
        let all = sessions.withLockedValue { Array($0.values) }
        for session in all {
            session.eventLoop.execute { session.value.close(reason: .serverShutdown, notifyPeer: true) }
        }
    }
}
