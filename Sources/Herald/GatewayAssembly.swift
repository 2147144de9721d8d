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

    init(options: ServerOptions, group: any EventLoopGroup, authority: TokenAuthority, logger: Logger) throws {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.gateway = GatewayNode(
            nodeId: options.resolvedNodeId,
            engine: try options.resolvedEngineConfiguration(),
            group: group,
            authority: authority,
            notifications: MemoryNotificationStore(),
            registry: registry,
            logger: logger
        )
        logger.info("[Server] Node \(gateway.nodeId) starting")
    }

    /// `/healthz`, `/readyz` and `/metrics` of a node whose only dependency is itself.
    var operations: OperationsEndpoint {
        let gateway = self.gateway, registry = self.registry
        return OperationsEndpoint(isReady: { true }) {
            await gateway.metrics.refresh(adapter: gateway.adapter)
            return registry.emitToBuffer()
        }
    }

    func server(options: ServerOptions, group: any EventLoopGroup, endpoints extra: [any HTTPEndpoint], logger: Logger) throws
        -> HTTPNodeServer
    {
        let gateway = self.gateway
        return HTTPNodeServer(
            configuration: .init(host: options.resolvedHost, port: try options.resolvedPort()),
            group: group,
            endpoints: [gateway.engine, operations] + extra,
            upgraders: { gateway.upgraders() },
            logger: logger,
            onShutdown: { await gateway.closeSessions() }
        )
    }
}
