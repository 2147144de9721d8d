import Gateway
import HTTPServer
import HeraldAuth
import Logging
import NIOCore
import Prometheus

/// Assembles the gateway part shared by `serve` and `gateway`.
struct GatewayAssembly {
    let gateway: GatewayNode
    let registry: PrometheusCollectorRegistry

    init(
        options: ServerOptions,
        group: any EventLoopGroup,
        authority: TokenAuthority,
        notifications: any NotificationStore,
        logger: Logger
    ) throws {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.gateway = GatewayNode(
            nodeId: options.resolvedNodeId,
            engine: try options.resolvedEngineConfiguration(),
            group: group,
            authority: authority,
            notifications: notifications,
            registry: registry,
            logger: logger
        )
        logger.info("[Server] Node \(gateway.nodeId) starting")
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
        isReady: @escaping @Sendable () async -> Bool,
        logger: Logger
    ) throws -> HTTPNodeServer {
        let gateway = self.gateway
        return HTTPNodeServer(
            configuration: .init(host: options.resolvedHost, port: try options.resolvedPort()),
            group: group,
            endpoints: [gateway.engine, operations(isReady: isReady)] + extra,
            upgraders: { gateway.upgraders() },
            logger: logger,
            onShutdown: { await gateway.closeSessions() }
        )
    }
}
