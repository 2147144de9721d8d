import CoreMetrics

/// The counters of the Socket.IO layer, made from an explicit factory so that each server
/// (and each test) owns its registry instead of a process-wide bootstrap.
///
/// A class: every socket keeps it, and one reference is smaller than five.
public final class SocketIOMetrics: Sendable {
    /// Sockets connected to the default namespace.
    public let connections: Meter
    /// Engine.IO messages received from clients.
    public let packetsReceived: Counter
    /// Packets written to single sockets plus broadcast deliveries.
    public let packetsSent: Counter
    /// Broadcasts handed to the adapter: this node's own, and those from other nodes that may
    /// reach one of its sockets (one for other nodes' sockets alone is not decoded here).
    public let broadcasts: Counter
    /// Broadcast deliveries that found their socket closed or its queue full.
    public let deliveryErrors: Counter

    public init(factory: any MetricsFactory) {
        connections = Meter(label: "herald_connections", factory: factory)
        packetsReceived = Counter(label: "herald_packets_received_total", factory: factory)
        packetsSent = Counter(label: "herald_packets_sent_total", factory: factory)
        broadcasts = Counter(label: "herald_broadcasts_total", factory: factory)
        deliveryErrors = Counter(label: "herald_delivery_errors_total", factory: factory)
    }
}
