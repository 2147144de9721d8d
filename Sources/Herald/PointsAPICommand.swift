import ArgumentParser
import HTTPServer
import HeraldAuth
import Logging
import NIOCore
import NIOPosix
import PointsAPI
import PointsLedger
import Prometheus
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
        // This node holds no sockets: presence finds none here until a cluster adapter asks the gateways.
        let adapter = LocalAdapter(group: group, metrics: SocketIOMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: logger)
        // Publishing to the gateways goes through Redis (the cluster); until a node publishes
        // them, committed events wait in the outbox, which keeps them in commit order.
        logger.warning("[Outbox] No publisher configured: events wait in the outbox until a publishing node runs")
        let api = PointsEndpoint(ledger: ledger, authority: authority, presence: adapter, onCommit: {}, logger: logger)
        let operations = OperationsEndpoint(isReady: { await ledger.isReachable() }) { registry.emitToBuffer() }
        let server = HTTPNodeServer(
            configuration: .init(host: options.resolvedHost, port: try options.resolvedPort()),
            group: group,
            endpoints: [api, operations],
            logger: logger
        )
        try await NodeRunner.run([server], group: group, logger: logger)
    }
}
