import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A dedicated subscriber connection: it (re)subscribes after every reconnect and hands each
/// message to `onMessage` on the connection's event loop.
public final class RedisSubscriber: Service, Sendable {
    /// What to listen to: a channel, a pattern, or a sharded channel (Redis Cluster, SSUBSCRIBE).
    public enum Subscription: Sendable, Hashable {
        case channel(String)
        case pattern(String)
        case shardChannel(String)

        var command: RedisCommand {
            switch self {
            case .channel(let name): RedisCommand("SUBSCRIBE", name)
            case .pattern(let pattern): RedisCommand("PSUBSCRIBE", pattern)
            case .shardChannel(let name): RedisCommand("SSUBSCRIBE", name)
            }
        }
    }

    public let url: RedisURL
    private let group: any EventLoopGroup
    private let logger: Logger
    private let subscriptions: [Subscription]
    private let onMessage: @Sendable (RedisMessage) -> Void
    private let subscribed = NIOLockedValueBox(false)

    public init(
        url: RedisURL,
        group: any EventLoopGroup,
        subscriptions: [Subscription],
        logger: Logger,
        onMessage: @escaping @Sendable (RedisMessage) -> Void
    ) {
        self.url = url
        self.group = group
        self.subscriptions = subscriptions
        self.logger = logger
        self.onMessage = onMessage
    }

    static let maxReconnectDelay = Duration.milliseconds(250)

    /// Whether every subscription is in place right now.
    public var isSubscribed: Bool { subscribed.withLockedValue { $0 } }

    public func run() async throws {
        let url = self.url, group = self.group
        // Pub/sub keeps nothing for a subscriber that is away: after a Redis restart every
        // publisher's message before the resubscription is lost to this node's sockets. So the
        // subscriber tries again every quarter second at most, and is back first; publishers
        // keep the 2 s of SPEC 5.2 (and the outbox relay its own backoff on top).
        await RedisConnector.keepConnected(to: url, name: "subscriber", logger: logger, maxDelay: Self.maxReconnectDelay) {
            // AUTH and SELECT go first on the same connection; their replies are checked by
            // the push handler before it counts subscription confirmations.
            let handshake = url.handshake
            let subscriptions = self.subscriptions, onMessage = self.onMessage
            let confirmed = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)
            let connection = try await RedisConnector.connect(to: url, group: group) { eventLoop in
                let handler = RedisPushHandler(
                    eventLoop: eventLoop,
                    handshakeReplies: handshake.count,
                    expectedConfirmations: subscriptions.count,
                    onMessage: onMessage
                )
                confirmed.withLockedValue { $0 = handler.confirmed }
                return handler
            }
            for command in handshake + subscriptions.map(\.command) {
                connection.write(command, promise: nil)
            }
            connection.flush()
            guard let confirmed = confirmed.withLockedValue({ $0 }) else { throw RedisConnectionClosed() }
            try await confirmed.get()
            return connection
        } onChange: { connection in
            subscribed.withLockedValue { $0 = connection != nil }
        }
    }

    /// Waits until subscribed, at most `timeout`; true when subscribed.
    public func waitUntilSubscribed(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isSubscribed, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isSubscribed
    }
}
