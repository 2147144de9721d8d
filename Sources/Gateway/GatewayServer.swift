import EngineIO
import HeraldAuth
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SocketIO

/// Where and how a node listens.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var nodeId: String
    public var engine: EngineConfiguration

    public init(host: String = "0.0.0.0", port: Int = 3000, nodeId: String, engine: EngineConfiguration = .init()) {
        self.host = host
        self.port = port
        self.nodeId = nodeId
        self.engine = engine
    }
}

/// A gateway node: Socket.IO over Engine.IO on one port, plus its health and metrics endpoints.
///
/// A swift-service-lifecycle `Service`: `run` serves until graceful shutdown, then stops accepting
/// and closes every session with a proper close so that clients reconnect elsewhere at once.
public final class GatewayServer: Service {
    public let configuration: GatewayConfiguration
    public let adapter: LocalAdapter
    public let metrics: GatewayMetrics
    private let group: any EventLoopGroup
    private let engine: EngineServer
    private let logger: Logger
    private let address = NIOLockedValueBox<SocketAddress?>(nil)

    public init(
        configuration: GatewayConfiguration,
        group: any EventLoopGroup,
        authority: TokenAuthority,
        notifications: any NotificationStore = MemoryNotificationStore(),
        logger: Logger
    ) {
        let metrics = GatewayMetrics()
        let adapter = LocalAdapter(group: group, metrics: metrics.socketIO, logger: logger)
        let namespace = GatewayNamespace(
            authority: authority,
            nodeId: configuration.nodeId,
            broadcaster: adapter,
            notifications: notifications,
            logger: logger
        )
        let socketIO = SocketIOServer(namespace: namespace, adapter: adapter, metrics: metrics.socketIO)
        self.configuration = configuration
        self.adapter = adapter
        self.metrics = metrics
        self.group = group
        self.logger = logger
        self.engine = EngineServer(configuration: configuration.engine, logger: logger) { socketIO.accept($0) }
    }

    /// The address bound, once `run` is listening.
    public var localAddress: SocketAddress? { address.withLockedValue { $0 } }

    public func run() async throws {
        let routes = GatewayRoutes(engine: engine, adapter: adapter, metrics: metrics)
        let engine = self.engine
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A socket whose unsent bytes pass the bound becomes unwritable and is closed (SPEC 5.2).
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.engine.maxQueuedBytes / 2, high: configuration.engine.maxQueuedBytes)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withServerUpgrade: (
                            upgraders: [engine.makeUpgrader()],
                            completionHandler: { context in
                                context.pipeline.removeHandler(name: GatewayHTTPHandler.name, promise: nil)
                            }
                        ),
                        withErrorHandling: true
                    )
                    try sync.addHandler(GatewayHTTPHandler(routes: routes), name: GatewayHTTPHandler.name)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        address.withLockedValue { $0 = server.localAddress }
        let shown = server.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" }
        logger.info("[Server] Node \(configuration.nodeId) listening on http://\(shown ?? "?")")

        try? await gracefulShutdown()

        logger.info("[Server] Shutting down: closing the listener and every session")
        try? await server.close()
        engine.closePollingSessions()
        await adapter.closeAllSessions()
        // Gives the close frames a moment to leave before the event loops stop.
        try? await Task.sleep(for: .milliseconds(200))
    }
}
