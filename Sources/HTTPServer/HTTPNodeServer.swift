import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A node's listener: HTTP/1.1 with optional WebSocket upgrades, requests routed to endpoints.
///
/// A swift-service-lifecycle `Service`: `run` serves until graceful shutdown, stops accepting,
/// then runs `onShutdown` (which closes sessions properly so clients reconnect elsewhere at once).
public final class HTTPNodeServer: Service {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Bytes queued for a connection that does not read before it is closed (SPEC 5.2).
        public var maxQueuedBytes: Int
        /// How long a connection may take over a request, and stay idle between them.
        public var deadlines: HTTPDeadlines
        /// The most connections one peer address may hold at once; 0 for no bound.
        public var maxConnectionsPerAddress: Int
        /// HTTPS and WSS on the port instead of HTTP and WS, when set.
        public var tls: ChannelSecurity?

        public init(
            host: String, port: Int, maxQueuedBytes: Int = 1 << 20, deadlines: HTTPDeadlines = HTTPDeadlines(),
            maxConnectionsPerAddress: Int = 0, tls: ChannelSecurity? = nil
        ) {
            self.host = host
            self.port = port
            self.maxQueuedBytes = maxQueuedBytes
            self.deadlines = deadlines
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.tls = tls
        }
    }

    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let endpoints: [any HTTPEndpoint]
    private let makeUpgraders: @Sendable () -> [any HTTPServerProtocolUpgrader & Sendable]
    private let onShutdown: @Sendable () async -> Void
    private let logger: Logger
    private let address = NIOLockedValueBox<SocketAddress?>(nil)

    public init(
        configuration: Configuration,
        group: any EventLoopGroup,
        endpoints: [any HTTPEndpoint],
        upgraders: @escaping @Sendable () -> [any HTTPServerProtocolUpgrader & Sendable] = { [] },
        logger: Logger,
        onShutdown: @escaping @Sendable () async -> Void = {}
    ) {
        self.configuration = configuration
        self.group = group
        self.endpoints = endpoints
        self.makeUpgraders = upgraders
        self.logger = logger
        self.onShutdown = onShutdown
    }

    /// Sets up the pipeline of one accepted connection (also what the handler tests and the fuzz
    /// target drive on an `EmbeddedChannel`).
    public static func configure(
        _ channel: any Channel,
        endpoints: [any HTTPEndpoint],
        upgraders: [any HTTPServerProtocolUpgrader & Sendable] = [],
        deadlines: HTTPDeadlines = HTTPDeadlines()
    ) throws {
        let sync = channel.pipeline.syncOperations
        let watcher = HTTPRequestBytesWatcher()
        try sync.addHandler(watcher, name: HTTPRequestBytesWatcher.name)
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withServerUpgrade: (
                upgraders: upgraders,
                completionHandler: { context in
                    context.pipeline.removeHandler(name: HTTPConnectionHandler.name, promise: nil)
                    context.pipeline.removeHandler(name: HTTPRequestBytesWatcher.name, promise: nil)
                }
            ),
            withErrorHandling: true
        )
        let connection = HTTPConnectionHandler(endpoints: endpoints, deadlines: deadlines, watcher: watcher)
        try sync.addHandler(connection, name: HTTPConnectionHandler.name)
    }

    /// The address bound, once `run` is listening.
    public var localAddress: SocketAddress? { address.withLockedValue { $0 } }

    public func run() async throws {
        let endpoints = self.endpoints, makeUpgraders = self.makeUpgraders, deadlines = configuration.deadlines
        let tls = configuration.tls
        let perAddress = configuration.maxConnectionsPerAddress > 0
            ? ConnectionsPerAddress(limit: configuration.maxConnectionsPerAddress) : nil
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Each channel keeps its receive buffer between reads (NIO pools it), so its initial
            // size is paid by every idle connection: NIO's default 2,048 bytes was the largest
            // item of an idle socket's heap (heaptrack). Reads grow it when they fill it.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            // A connection whose unsent bytes pass the bound becomes unwritable and is closed.
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.maxQueuedBytes / 2, high: configuration.maxQueuedBytes)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let perAddress {
                        try channel.pipeline.syncOperations.addHandler(ConnectionLimitHandler(connections: perAddress))
                    }
                    // TLS first: everything after it (HTTP, the WebSocket upgrade, the deadlines)
                    // sees plain bytes, so HTTPS long-polling and WSS take the same path as HTTP.
                    if let tls { try tls.install(channel) }
                    try Self.configure(channel, endpoints: endpoints, upgraders: makeUpgraders(), deadlines: deadlines)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        address.withLockedValue { $0 = server.localAddress }
        let shown = server.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
        logger.info("[Server] listening on \(tls == nil ? "http" : "https")://\(shown ?? "?")")

        try? await gracefulShutdown()

        logger.info("[Server] Shutting down: closing the listener and every session")
        try? await server.close()
        await onShutdown()
    }
}

/// What secures each accepted connection before HTTP sees it: TLS, given by the executable (which
/// links swift-nio-ssl) so that this module, and the fuzz targets built on it, do not.
public struct ChannelSecurity: Sendable {
    /// Adds the handler (NIOSSL's server handler) first in a new connection's pipeline.
    public let install: @Sendable (any Channel) throws -> Void

    public init(install: @escaping @Sendable (any Channel) throws -> Void) {
        self.install = install
    }
}
