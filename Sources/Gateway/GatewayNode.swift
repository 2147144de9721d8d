import EngineIO
import HeraldAuth
import HTTPServer
import Logging
import NIOCore
import NIOHTTP1
import Notifications
import Prometheus
import SocketIO

/// The gateway part of a node: Socket.IO over Engine.IO at `/socket.io/`, its adapter and metrics.
///
/// It is composed into an `HTTPNodeServer` (with the points API under `herald serve`).
public final class GatewayNode: Sendable {
    public let nodeId: String
    public let adapter: LocalAdapter
    public let metrics: GatewayMetrics
    public let engine: EngineServer

    public init(
        nodeId: String,
        engine configuration: EngineConfiguration,
        group: any EventLoopGroup,
        authority: TokenAuthority,
        notifications: any NotificationStore,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        recovery: GatewayRecovery = .off,
        cluster: (LocalAdapter) -> any Broadcaster = { $0 }
    ) {
        let metrics = GatewayMetrics(registry: registry)
        let adapter = LocalAdapter(group: group, metrics: metrics.socketIO, logger: logger, recoveryLog: recovery.log)
        // Changes a socket makes (the notification center's) reach the other gateways through
        // the cluster's broadcaster; under `serve` that is the local adapter itself.
        let namespace = GatewayNamespace(
            authority: authority,
            nodeId: nodeId,
            broadcaster: cluster(adapter),
            notifications: notifications,
            logger: logger
        )
        let socketIO = SocketIOServer(namespace: namespace, adapter: adapter, metrics: metrics.socketIO, recovery: recovery.store)
        self.nodeId = nodeId
        self.adapter = adapter
        self.metrics = metrics
        self.engine = EngineServer(configuration: configuration, logger: logger) { socketIO.accept($0) }
    }

    /// The WebSocket upgrader of `/socket.io/`.
    public func upgraders() -> [any HTTPServerProtocolUpgrader & Sendable] {
        [engine.makeUpgrader()]
    }

    /// Closes every session with a proper close so clients reconnect at once (graceful shutdown).
    public func closeSessions() async {
        engine.closePollingSessions()
        await adapter.closeAllSessions()
        // Gives the close frames a moment to leave before the event loops stop.
        try? await Task.sleep(for: .milliseconds(200))
    }
}

/// Where a gateway keeps recoverable sessions and events (SPEC 4.1), and who gives the offsets.
public enum GatewayRecovery: Sendable {
    case off
    /// `serve`: sessions and room logs in this process, which also gives every offset.
    case inMemory(MemoryRecovery)
    /// A cluster: sessions and logs in a store the nodes share; the publishers (the relay's
    /// emitter, the cluster adapter) give the offsets.
    case shared(any ConnectionRecovery)

    var store: (any ConnectionRecovery)? {
        switch self {
        case .off: nil
        case .inMemory(let memory): memory
        case .shared(let store): store
        }
    }

    /// The log that gives offsets as this node broadcasts, when it is the one that does.
    var log: MemoryRecovery? {
        if case .inMemory(let memory) = self { memory } else { nil }
    }
}
