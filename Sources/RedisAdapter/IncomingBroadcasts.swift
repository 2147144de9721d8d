import Logging
import NIOCore
import RedisClient
import SocketIO

/// What other nodes and emitters broadcast, delivered to this node's sockets (on the
/// subscriber's event loop, in the order Redis published them).
struct IncomingBroadcasts: Sendable {
    let uid: String
    let local: LocalAdapter
    let recovery: RedisRecovery?
    let logger: Logger

    func receive(_ message: RedisMessage, on channel: String) {
        guard let broadcast = RedisBroadcast(decoding: message.payload) else {
            // One line, then delivery goes on: a message of the wrong shape selects nobody.
            logger.warning("[Redis] Dropped a malformed broadcast on \(channel) (\(message.payload.readableBytes) bytes)")
            return
        }
        guard broadcast.packet.namespace == "/" else { return }
        // This node's own broadcasts come back through the pattern subscription. Those without
        // an offset were delivered here when they were sent; those with one are delivered now,
        // in the order of offsets that every node shares.
        // A node with recovery off delivers no offsets (its clients may not take the argument).
        let offset = recovery == nil ? nil : broadcast.offset
        guard broadcast.uid != uid || offset != nil else { return }
        local.deliver(broadcast.packet, options: broadcast.options, offset: offset)
        if let offset { recovery?.delivered(offset) }
    }
}
