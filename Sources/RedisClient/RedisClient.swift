import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A command connection to Redis that stays up: it reconnects with backoff after any loss.
///
/// A swift-service-lifecycle `Service`; commands sent while it is down fail at once with
/// `RedisUnavailable`, so callers (the outbox relay) back off and retry.
public final class RedisClient: Service, Sendable {
    public let url: RedisURL
    private let group: any EventLoopGroup
    private let logger: Logger
    private let name: String
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    /// When the connection last came back after a loss (nil before any loss).
    private let reconnected = NIOLockedValueBox<(everConnected: Bool, at: ContinuousClock.Instant?)>((false, nil))

    /// How long a publisher waits after its connection came back before it publishes again.
    /// Pub/sub keeps nothing for a subscriber that is away: every gateway's subscriber lost Redis
    /// when this connection did and tries again every `RedisSubscriber.maxReconnectDelay` at
    /// most, so a message published at once could reach none of them (a Redis restart lost the
    /// outbox's first event to a gateway that resubscribed a few ms after it went out).
    public static let resubscribeGrace = Duration.milliseconds(600)

    public init(url: RedisURL, group: any EventLoopGroup, logger: Logger, name: String = "client") {
        self.url = url
        self.group = group
        self.logger = logger
        self.name = name
    }

    /// Whether a connection is up right now.
    public var isConnected: Bool { channel.withLockedValue { $0 != nil } }

    public func run() async throws {
        let url = self.url, group = self.group
        await RedisConnector.keepConnected(to: url, name: name, logger: logger) {
            let connection = try await RedisConnector.connect(to: url, group: group) { _ in RedisCommandHandler() }
            for command in url.handshake { _ = try await RedisConnector.send(command, on: connection) }
            return connection
        } onChange: { connection in
            channel.withLockedValue { $0 = connection }
            guard connection != nil else { return }
            reconnected.withLockedValue { state in
                if state.everConnected { state.at = .now }
                state.everConnected = true
            }
        }
    }

    /// Returns once the connection has been back `resubscribeGrace` since its last loss: at
    /// once in steady state. Publishers call it first (`RedisEmitter`, `RedisRecovery`,
    /// `RedisAdapter`), commands that only read or write keys need not.
    public func awaitResubscriptions() async {
        guard let since = reconnected.withLockedValue({ $0.at }) else { return }
        let wait = since + Self.resubscribeGrace - .now
        guard wait > .zero else {
            reconnected.withLockedValue { $0.at = nil }
            return
        }
        try? await Task.sleep(for: wait)
    }

    /// Sends a command and waits for its reply; commands sent together are pipelined.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        guard let connection = channel.withLockedValue({ $0 }) else { throw RedisUnavailable() }
        return try await RedisConnector.send(command, on: connection)
    }

    /// Sends commands together, in order, pipelined; one result per command.
    public func send(_ commands: [RedisCommand]) async -> [Result<RESPValue, any Error>] {
        guard let connection = channel.withLockedValue({ $0 }) else {
            return commands.map { _ in .failure(RedisUnavailable()) }
        }
        return await RedisConnector.send(commands, on: connection)
    }

    /// PUBLISH; returns how many subscribers received it.
    @discardableResult
    public func publish(_ message: ByteBuffer, to channelName: String) async throws -> Int64 {
        try await send(Self.publishCommand(message, to: channelName)).integer ?? 0
    }

    public static func publishCommand(_ message: ByteBuffer, to channelName: String) -> RedisCommand {
        RedisCommand([ByteBuffer(string: "PUBLISH"), ByteBuffer(string: channelName), message])
    }

    /// Waits until connected, at most `timeout`; true when connected.
    public func waitUntilConnected(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isConnected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isConnected
    }
}
