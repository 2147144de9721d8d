import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Opens TCP connections to Redis with the RESP codec (hiredis) in the pipeline.
enum RedisConnector {
    /// Connects; `handler` makes the handler that takes the replies (on the channel's loop).
    static func connect(
        to url: RedisURL,
        group: any EventLoopGroup,
        handler: @escaping @Sendable (any EventLoop) -> any ChannelHandler
    ) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(RESPReplyDecoder()),
                        MessageToByteHandler(RESPCommandEncoder())
                    )
                    try channel.pipeline.syncOperations.addHandler(handler(channel.eventLoop))
                }
            }
            .connect(host: url.host, port: url.port)
            .get()
    }

    /// Keeps one connection up until shutdown: `open` connects and prepares it (then it counts as
    /// up); `onChange` hears the connection when it is up and nil when it is lost. After a loss
    /// it waits (the policy's backoff) and opens again.
    static func keepConnected(
        to url: RedisURL,
        name: String,
        logger: Logger,
        maxDelay: Duration = .seconds(2),
        open: () async throws -> any Channel,
        onChange: (_ connection: (any Channel)?) -> Void
    ) async {
        var policy = ReconnectPolicy(name: name, logger: logger, maxDelay: maxDelay)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let connection = try await open()
                onChange(connection)
                policy.connected(to: url)
                try? await withGracefulShutdownHandler {
                    try await connection.closeFuture.get()
                } onGracefulShutdown: {
                    connection.close(promise: nil)
                }
                onChange(nil)
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                policy.failed(url, RedisConnectionClosed())
            } catch {
                onChange(nil)
                policy.failed(url, error)
            }
            await policy.pause()
        }
    }

    /// Sends one command through a `RedisCommandHandler` in the pipeline and waits for its reply.
    static func send(_ command: RedisCommand, on channel: any Channel) async throws -> RESPValue {
        try await send([command], on: channel)[0].get()
    }

    /// Sends commands in order, pipelined (one flush), and waits for every reply.
    static func send(_ commands: [RedisCommand], on channel: any Channel) async -> [Result<RESPValue, any Error>] {
        let replies = commands.map { command in
            let reply = channel.eventLoop.makePromise(of: RESPValue.self)
            // A write that never reaches the handler (the channel closed meanwhile) would leave
            // the reply waiting for ever; a second completion of a promise is ignored.
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { reply.fail($0) }
            channel.write(RedisRequest(command: command, promise: reply), promise: written)
            return reply
        }
        channel.flush()
        var results: [Result<RESPValue, any Error>] = []
        for reply in replies {
            do { results.append(.success(try await reply.futureResult.get())) } catch { results.append(.failure(error)) }
        }
        return results
    }
}

/// Capped exponential backoff between connection attempts, with the outage and the recovery
/// logged once each (SPEC 5.2: at most 2 s between tries).
struct ReconnectPolicy {
    private(set) var delay = Duration.milliseconds(50)
    private var down = false
    let name: String
    let logger: Logger
    let maxDelay: Duration

    init(name: String, logger: Logger, maxDelay: Duration = .seconds(2)) {
        self.name = name
        self.logger = logger
        self.maxDelay = maxDelay
    }

    mutating func connected(to url: RedisURL) {
        if down {
            logger.notice("[Redis] \(name) reconnected to \(url)")
        } else {
            logger.info("[Redis] \(name) connected to \(url)")
        }
        down = false
        delay = .milliseconds(50)
    }

    mutating func failed(_ url: RedisURL, _ error: any Error) {
        if !down {
            logger.warning("[Redis] \(name) lost \(url) (\(error)); retrying every \(maxDelay) at most")
            down = true
        }
    }

    /// Waits before the next attempt and doubles the wait, up to `maxDelay`.
    mutating func pause() async {
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, maxDelay)
    }
}
