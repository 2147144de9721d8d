import HeraldAuth
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Drives the plan's events through the points API (SPEC section 7): each event is one
/// `POST /api/points/add`, paced at the plan's rate, as an admin; the ledger commits it and its
/// outbox publishes `points_added`, which the connections receive with the API's `eventId` and
/// the commit's `timestamp`. The description carries the moment the request was written
/// (`sentAt=<µs>`), so latency is measured from the POST, finer than the commit's milliseconds.
///
/// A few keep-alive HTTP/1.1 connections carry the requests (NIO's HTTP codec; the load
/// generator needs no more of a client than that).
enum PointsAPIPublisher {
    /// A server answers one request of a connection at a time (pipelined ones wait), so a request
    /// held up by a commit holds up its connection's next: enough connections that the API's
    /// group commit, not this client, sets the pace.
    static let connections = 64
    static let requestsInFlight = 256

    /// Posts every event; returns when the first went out (µs since the epoch) and how many the
    /// API did not accept (their deliveries count as lost).
    static func publish(
        _ plan: LoadPlan, held: [Int], api: LoadPlan.Target, progress: @escaping @Sendable (String) -> Void
    ) async throws -> (startedAt: UInt64, refused: Int) {
        let token = try await TokenAuthority(secret: plan.secret).sign(Identity(userId: "\(plan.prefix)-api", role: .admin), ttl: 3600)
        let address = try SocketAddress.makeAddressResolvingHost(api.host, port: api.port)
        let clients = (0..<connections).map { _ in APIConnection(address, host: "\(api.host):\(api.port)") }
        defer { clients.forEach { $0.close() } }

        let startedAt = wallClockMicroseconds()
        let started = ContinuousClock.now
        var refused = 0
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            for index in 0..<plan.events {
                let due = started + .seconds(Double(index) / Double(max(plan.rate, 1)))
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
                if inFlight >= requestsInFlight, let accepted = try await group.next() {
                    inFlight -= 1
                    if !accepted { refused += 1 }
                }
                let body = { @Sendable (sentAt: UInt64) in requestBody(plan, event: index, held: held, sentAt: sentAt) }
                let client = clients[index % clients.count]
                let key = "\(plan.prefix)-e\(index)"
                group.addTask {
                    (try? await client.post("/api/points/add", body: body, token: token, idempotencyKey: key)) == .created
                }
                inFlight += 1
                if index % 1000 == 999 { progress("posted \(index + 1)/\(plan.events)") }
            }
            for try await accepted in group where !accepted { refused += 1 }
        }
        if refused > 0 { progress("the points API refused \(refused) of \(plan.events) events") }
        return (startedAt, refused)
    }

    /// Targeted: to one connected guest (at a restaurant nobody listens to); fan-out: to the
    /// restaurant every connection is staff of (for a guest nobody is).
    static func requestBody(_ plan: LoadPlan, event index: Int, held: [Int], sentAt: UInt64) -> String {
        let (guest, restaurant) = plan.scenario == .fanout
            ? ("\(plan.prefix)-nobody", plan.restaurant)
            : ("\(plan.prefix)-g\(held[index % held.count])", "\(plan.prefix)-api-r")
        return #"{"guestId":"\#(guest)","restaurantId":"\#(restaurant)","amount":1,"description":"\#(plan.prefix)-e\#(index) sentAt=\#(sentAt)"}"#
    }
}

/// One slot of keep-alive HTTP/1.1 connection: requests may be pipelined, answers come back in
/// order. A server may close a keep-alive connection whenever it likes (nginx after 1,000
/// requests): the slot then opens a new one, and a request cut off with it is sent again with
/// the same `Idempotency-Key`, so that it is committed once.
final class APIConnection: Sendable {
    private struct Connected: Sendable {
        let channel: any Channel
        let responses: NIOLoopBound<ResponseHandler>
    }

    private let address: SocketAddress
    private let host: String
    private let current = NIOLockedValueBox<State>(.none)

    private enum State {
        case none
        case connecting(EventLoopFuture<Connected>)
        case open(Connected)
    }

    static let attempts = 3

    init(_ address: SocketAddress, host: String) {
        self.address = address
        self.host = host
    }

    /// The status of the answer to a JSON POST, after at most `attempts` connections.
    /// `body` is made when the request is written, from the wall clock's µs at that moment.
    func post(
        _ path: String, body: @escaping @Sendable (UInt64) -> String, token: String, idempotencyKey: String
    ) async throws -> HTTPResponseStatus {
        var failure: any Error = LoadTestError("no attempt")
        for _ in 0..<Self.attempts {
            do {
                let connected = try await connection().get()
                return try await send(path, body: body, token: token, key: idempotencyKey, on: connected).get()
            } catch {
                failure = error
            }
        }
        throw failure
    }

    /// The open connection, or a new one when there is none or it closed.
    private func connection() -> EventLoopFuture<Connected> {
        let (future, isNew) = current.withLockedValue { state -> (EventLoopFuture<Connected>, Bool) in
            switch state {
            case .connecting(let future):
                return (future, false)
            case .open(let connected) where connected.channel.isActive:
                return (connected.channel.eventLoop.makeSucceededFuture(connected), false)
            case .open, .none:
                let future = Self.open(address)
                state = .connecting(future)
                return (future, true)
            }
        }
        // Outside the lock: a callback of a future already complete runs at once.
        if isNew {
            future.whenComplete { [current] result in
                current.withLockedValue { state in
                    guard case .connecting(let pending) = state, pending === future else { return }
                    if case .success(let connected) = result { state = .open(connected) } else { state = .none }
                }
            }
        }
        return future
    }

    private static func open(_ address: SocketAddress) -> EventLoopFuture<Connected> {
        ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler())
                }
            }
            .connect(to: address)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ResponseHandler.self)
                return Connected(channel: channel, responses: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
    }

    private func send(
        _ path: String, body makeBody: @escaping @Sendable (UInt64) -> String, token: String, key: String, on connected: Connected
    ) -> EventLoopFuture<HTTPResponseStatus> {
        let channel = connected.channel, responses = connected.responses, host = self.host
        return channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: HTTPResponseStatus.self)
            guard responses.value.expect(promise) else { return promise.futureResult }
            let body = makeBody(wallClockMicroseconds())
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: host)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            headers.add(name: "Authorization", value: "Bearer \(token)")
            headers.add(name: "Idempotency-Key", value: key)
            let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return promise.futureResult
        }
    }

    func close() {
        switch current.withLockedValue({ $0 }) {
        case .open(let connected): connected.channel.close(promise: nil)
        case .connecting(let future): future.whenSuccess { $0.channel.close(promise: nil) }
        case .none: break
        }
    }
}

/// Pairs answers with the requests waiting for them, in order.
final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var waiting = CircularBuffer<EventLoopPromise<HTTPResponseStatus>>()
    private var status: HTTPResponseStatus?
    private var isOpen = true

    /// Queues `promise` for the next answer; fails it (false) when the connection is gone.
    func expect(_ promise: EventLoopPromise<HTTPResponseStatus>) -> Bool {
        guard isOpen else {
            promise.fail(LoadTestError("the points API closed the connection"))
            return false
        }
        waiting.append(promise)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status
        case .body: break
        case .end:
            if let status, let promise = waiting.popFirst() { promise.succeed(status) }
            status = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        while let promise = waiting.popFirst() { promise.fail(LoadTestError("the points API closed the connection")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
