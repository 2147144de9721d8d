import NIOCore

/// A command and the promise of its reply.
struct RedisRequest: Sendable {
    let command: RedisCommand
    let promise: EventLoopPromise<RESPValue>
}

/// Pairs replies with commands in order, so commands can be pipelined.
///
/// On its channel's event loop; not Sendable, like NIO's handlers.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = RedisCommand

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.promise)
        // A write that fails means the stream is out of step: a reply to a command sent before
        // would answer the next one. Fail everything waiting and start over on a new connection.
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { [self] error in
            failAll(error)
            context.close(promise: nil)
        }
        written.futureResult.cascade(to: promise)
        context.write(wrapOutboundOut(request.command), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step; start over.
            context.close(promise: nil)
            return
        }
        if case .error(let message) = reply {
            promise.fail(RedisError(message))
        } else {
            promise.succeed(reply)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}

/// A message received by a subscriber connection.
public struct RedisMessage: Sendable {
    /// The channel it was published to.
    public var channel: ByteBuffer
    /// The pattern it matched, for PSUBSCRIBE.
    public var pattern: ByteBuffer?
    public var payload: ByteBuffer
}

/// The subscriber side: push messages in, handed to a callback on the channel's loop.
///
/// Replies to (P|S)SUBSCRIBE confirm subscriptions; they are counted so the connection can
/// tell when every subscription is in place.
final class RedisPushHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue

    private let onMessage: @Sendable (RedisMessage) -> Void
    private var handshakeReplies: Int
    private var remaining: Int
    private var promise: EventLoopPromise<Void>?
    /// Succeeds once the handshake passed and every subscription is confirmed.
    let confirmed: EventLoopFuture<Void>

    init(
        eventLoop: any EventLoop,
        handshakeReplies: Int,
        expectedConfirmations: Int,
        onMessage: @escaping @Sendable (RedisMessage) -> Void
    ) {
        let promise = eventLoop.makePromise(of: Void.self)
        self.promise = promise
        self.confirmed = promise.futureResult
        self.handshakeReplies = handshakeReplies
        self.remaining = expectedConfirmations
        self.onMessage = onMessage
        if handshakeReplies == 0, expectedConfirmations == 0 { settle(nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if case .error(let message) = reply {
            settle(RedisError(message))
            context.close(promise: nil)
            return
        }
        if handshakeReplies > 0 {
            handshakeReplies -= 1
            return
        }
        guard let items = reply.array, let kind = items.first?.string else { return }
        switch kind {
        case "message", "smessage":
            guard items.count == 3, let channel = items[1].bytes, let payload = items[2].bytes else { return }
            onMessage(RedisMessage(channel: channel, pattern: nil, payload: payload))
        case "pmessage":
            guard items.count == 4, let channel = items[2].bytes, let payload = items[3].bytes else { return }
            onMessage(RedisMessage(channel: channel, pattern: items[1].bytes, payload: payload))
        case "subscribe", "psubscribe", "ssubscribe":
            remaining -= 1
            if remaining == 0 { settle(nil) }
        default:
            break
        }
    }

    private func settle(_ error: (any Error)?) {
        guard let promise else { return }
        self.promise = nil
        if let error { promise.fail(error) } else { promise.succeed() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(RedisConnectionClosed())
        context.fireChannelInactive()
    }

    /// A connection that never came up is torn down without going inactive: the promise must
    /// still be completed.
    func handlerRemoved(context: ChannelHandlerContext) {
        settle(RedisConnectionClosed())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settle(error)
        context.close(promise: nil)
    }
}

/// The connection to Redis closed before the reply came.
public struct RedisConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the connection to Redis closed" }
}

/// Redis is not reachable right now; the client is reconnecting.
public struct RedisUnavailable: Error, CustomStringConvertible {
    public var description: String { "Redis is not reachable" }
}
