import Gateway
import HTTPServer
import HeraldAuth
import Logging
import NIOCore
import Notifications
import Prometheus
import RedisAdapter
import RedisClient
import ServiceLifecycle
import SocketIO

/// Assembles the gateway part shared by `serve` and `gateway`: with `--redis`, a cluster node
/// whose adapter is the Redis adapter.
struct GatewayAssembly {
    let gateway: GatewayNode
    let registry: PrometheusCollectorRegistry
    /// The cluster adapter, when the node runs with `--redis`.
    let cluster: RedisAdapter?

    /// The command connection of the cluster's notification centers, when the node runs with `--redis`.
    let notificationsClient: RedisClient?

    /// `notifications` serves a node without `--redis`; in a cluster the centers live in Redis.
    init(
        options: ServerOptions,
        group: any EventLoopGroup,
        authority: TokenAuthority,
        notifications embedded: any NotificationStore,
        logger: Logger
    ) throws {
        let registry = PrometheusCollectorRegistry()
        let redis = try options.resolvedRedis()
        var cluster: RedisAdapter?
        let notificationsClient = redis.map { RedisClient(url: $0, group: group, logger: logger, name: "notifications") }
        let notifications: any NotificationStore = notificationsClient.map(RedisNotificationStore.init) ?? embedded
        // Connection state recovery (SPEC 4.1): in Redis in a cluster, in memory under `serve`.
        var recovery = GatewayRecovery.off
        var redisRecovery: RedisRecovery?
        if let limits = try options.resolvedRecoveryLimits() {
            if let redis {
                let client = RedisClient(url: redis, group: group, logger: logger, name: "recovery")
                let shared = RedisRecovery(client: client, limits: limits)
                redisRecovery = shared
                recovery = .shared(shared)
            } else {
                recovery = .inMemory(MemoryRecovery(limits: limits))
            }
        }
        self.notificationsClient = notificationsClient
        self.registry = registry
        self.gateway = GatewayNode(
            nodeId: options.resolvedNodeId,
            engine: try options.resolvedEngineConfiguration(),
            group: group,
            authority: authority,
            notifications: notifications,
            registry: registry,
            logger: logger,
            recovery: recovery
        ) { local in
            guard let redis else { return local }
            let adapter = RedisAdapter(url: redis, local: local, group: group, logger: logger, recovery: redisRecovery)
            cluster = adapter
            return adapter
        }
        self.cluster = cluster
        logger.info("[Server] Node \(gateway.nodeId) starting\(redis.map { " in the cluster at \($0)" } ?? "")")
    }

    /// The services to run before the listener (the cluster adapter's Redis connections).
    var services: [any Service] {
        var services: [any Service] = []
        if let cluster { services.append(cluster) }
        if let notificationsClient { services.append(notificationsClient) }
        return services
    }

    /// Ready when the cluster's Redis is (a node without one is ready once it listens).
    var isReady: @Sendable () async -> Bool {
        let cluster = self.cluster, notificationsClient = self.notificationsClient
        return { (cluster?.isReady ?? true) && (notificationsClient?.isConnected ?? true) }
    }

    /// `/healthz`, `/readyz` (ready when `isReady` says so) and `/metrics`.
    func operations(isReady: @escaping @Sendable () async -> Bool) -> OperationsEndpoint {
        let gateway = self.gateway, registry = self.registry
        return OperationsEndpoint(isReady: isReady) {
            await gateway.metrics.refresh(adapter: gateway.adapter)
            return registry.emitToBuffer()
        }
    }

    func server(
        options: ServerOptions,
        group: any EventLoopGroup,
        endpoints extra: [any HTTPEndpoint],
        demo: TokenAuthority? = nil,
        isReady: @escaping @Sendable () async -> Bool,
        logger: Logger
    ) throws -> HTTPNodeServer {
        let gateway = self.gateway
        var web: [any HTTPEndpoint] = [DemoTokens(authority: demo)]
        if let root = try options.resolvedWebRoot() {
            let files = try StaticFiles(root: root)
            logger.info("[Web] Serving \(files.count) files of \(root) at / and /client/")
            web.append(files)
        } else {
            logger.warning("[Web] No web root (--web-root): / and /client/ answer 404")
        }
        return HTTPNodeServer(
            configuration: try options.resolvedHTTPConfiguration(),
            group: group,
            endpoints: [gateway.engine, operations(isReady: isReady)] + extra + web,
            upgraders: { gateway.upgraders() },
            logger: logger,
            onShutdown: { await gateway.closeSessions() }
        )
    }
}
