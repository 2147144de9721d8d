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
        }
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
