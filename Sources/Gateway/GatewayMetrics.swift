import CoreMetrics
import Prometheus
import SocketIO

/// The gateway's metrics: swift-metrics instruments backed by the node's Prometheus registry.
public struct GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let socketIO: SocketIOMetrics
    /// Distinct rooms with members on this node; computed when scraped, so the hot path pays nothing.
    let rooms: CoreMetrics.Gauge

    public init(registry: PrometheusCollectorRegistry) {
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.socketIO = SocketIOMetrics(factory: factory)
        self.rooms = CoreMetrics.Gauge(label: "herald_rooms", factory: factory)
    }

    /// Refreshes the gauges computed on demand; call before each scrape.
    public func refresh(adapter: LocalAdapter) async {
        if let names = try? await adapter.roomNames() {
            rooms.record(names.count)
        }
    }
}
