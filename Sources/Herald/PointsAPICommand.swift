import ArgumentParser
import HTTPServer
import HeraldAuth
import Logging
import NIOCore
import Notifications
import NIOPosix
import PointsAPI
import PointsLedger
import Prometheus
import RedisAdapter
import RedisClient
import ServiceLifecycle
import SocketIO

/// `herald points-api`: the points API node, owner of the ledger.
struct PointsAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points-api",
        abstract: "Run the points API node (the ledger and its outbox)."
    )

    @OptionGroup var options: ServerOptions
    @OptionGroup var ledgerOptions: LedgerOptions

    func validate() throws {
        guard options.resolvedSecret != nil else {
            throw ValidationError("points-api needs a JWT secret: pass --jwt-secret or set HERALD_JWT_SECRET")
        }
    }

    func run() async throws {
        try options.bootstrapLogging()
        let logger = Logger(label: "herald")
        let authority = await TokenAuthority(secret: options.resolvedSecret ?? "")
        let ledger = try await ledgerOptions.openLedger(logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let registry = PrometheusCollectorRegistry()
        let metrics = SocketIOMetrics(factory: PrometheusMetricsFactory(registry: registry))
        var services: [any Service] = []
        let presence: any Adapter
        let isReady: @Sendable () async -> Bool
        if let redis = try options.resolvedRedis() {
            // This node holds no sockets; its adapter asks the gateways (and answers their
            // requests with nothing, so that Node and Herald requesters are not kept waiting).
            let local = LocalAdapter(group: group, metrics: metrics, logger: logger)
            let cluster = RedisAdapter(url: redis, local: local, group: group, logger: logger)
            let publisher = RedisClient(url: redis, group: group, logger: logger, name: "emitter")
            // Each event is kept in the notification centers (in Redis) of its rooms, then published.
            // With recovery on, the relay's emitter gives each event its offset (SPEC 4.1).
            let recovery = try options.resolvedRecoveryLimits().map { RedisRecovery(client: publisher, limits: $0) }
            let broadcaster = NotificationRecorder(
                next: RedisEmitter(client: publisher, recovery: recovery), store: RedisNotificationStore(client: publisher)
            )
            let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: logger)
            services = [cluster, publisher, relay]
            presence = cluster
            isReady = {
                guard cluster.isReady, publisher.isConnected else { return false }
                return await ledger.isReachable()
            }
        } else {
            // Without a cluster there is nobody to publish to: committed events wait in the
            // outbox, in commit order, until a node with --redis runs on this database.
            logger.warning("[Outbox] No --redis: events wait in the outbox until a node that publishes them runs")
            presence = LocalAdapter(group: group, metrics: metrics, logger: logger)
            isReady = { await ledger.isReachable() }
        }
        let api = PointsEndpoint(ledger: ledger, authority: authority, presence: presence, logger: logger)
        let operations = OperationsEndpoint(isReady: isReady) { registry.emitToBuffer() }
        let server = HTTPNodeServer(
            configuration: try options.resolvedHTTPConfiguration(),
            group: group,
            endpoints: [api, operations],
            logger: logger
        )
        try await NodeRunner.run(services + [server], group: group, logger: logger)
    }
}
