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
    /// Queues a broadcast message without pushing it to the network yet; true when the caller
    /// owes this transport a `flushWrites()` (the first write since the last flush).
    func write(_ message: PreparedMessage) -> Bool
    /// Pushes what `write` queued.
    func flushWrites()
    /// Ends the transport; `notifyPeer` sends what tells the client to reconnect.
    func close(notifyPeer: Bool)
}

extension EngineTransport {
    /// Transports that coalesce by themselves (long-polling answers once per loop tick) send at once.
    func write(_ message: PreparedMessage) -> Bool {
        send(message)
        return false
    }

    func flushWrites() {}
}
