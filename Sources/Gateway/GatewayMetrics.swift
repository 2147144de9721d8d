import CoreMetrics
import Prometheus
import SocketIO

/// The node's metrics: swift-metrics instruments backed by one Prometheus registry, served at `/metrics`.
public struct GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let socketIO: SocketIOMetrics
    /// Distinct rooms with members on this node; computed when scraped, so the hot path pays nothing.
    let rooms: CoreMetrics.Gauge

    public init() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.socketIO = SocketIOMetrics(factory: factory)
        self.rooms = CoreMetrics.Gauge(label: "herald_rooms", factory: factory)
    }

    /// The Prometheus text exposition, after refreshing the gauges computed on demand.
    func render(adapter: LocalAdapter) async -> [UInt8] {
        if let names = try? await adapter.roomNames() {
            rooms.record(names.count)
        }
        return registry.emitToBuffer()
    }
}
