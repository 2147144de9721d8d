import NIOCore

/// The transport seam of an `EngineSocket`: long-polling or WebSocket.
///
/// Called on the session's event loop only; an implementation whose channel lives on another
/// loop (a WebSocket that upgraded a polling session) hops there itself.
protocol EngineTransport: AnyObject {
    var name: TransportName { get }
    /// Sends one packet of this session alone.
    func send(_ packet: EnginePacket)
    /// Sends a broadcast message encoded once for every recipient.
    func send(_ message: PreparedMessage)
    /// Ends the transport; `notifyPeer` sends what tells the client to reconnect.
    func close(notifyPeer: Bool)
}
