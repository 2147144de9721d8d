#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
        guard let envelope = RedisBroadcast.Envelope(decoding: message.payload) else {
            // One line, then delivery goes on: a message of the wrong shape selects nobody.
            return dropped(message, on: channel)
        }
        guard envelope.namespace == "/" else { return }
        // This node's own broadcasts come back through the pattern subscription. Those without
        // an offset were delivered here when they were sent; those with one are delivered now,
        // in the order of offsets that every node shares.
        // A node with recovery off delivers no offsets (its clients may not take the argument).
        let offered = recovery == nil ? nil : envelope.offset
        guard envelope.uid != uid || offered != nil else { return }
        var offset = offered
        if let given = offered, !Self.isPlausible(given, now: Self.wallClockMilliseconds()) {
            // Offsets come from Redis' clock: one far ahead of ours did not. Taken, it would
            // move the high-water mark (and each client's offset) past every real event to come,
            // and recoveries would skip them; the event goes out as one that is not recoverable.
            logger.warning("[Redis] Ignored the offset \(given) of a broadcast on \(channel): ahead of this node's clock")
            offset = nil
        }
        // Most broadcasts are for sockets of other nodes: those are not decoded further.
        if local.mayReach(envelope.options) {
            if let text = envelope.eventText(offset: offset) {
                local.deliver(eventText: text, named: envelope.eventName, options: envelope.options, offset: offset)
            } else {
                guard let broadcast = envelope.broadcast() else { return dropped(message, on: channel) }
                local.deliver(broadcast.packet, options: broadcast.options, offset: offset)
            }
        }
        // Seen either way: the node's high-water mark follows every offset it heard.
        if let offset { recovery?.delivered(offset) }
    }

    private func dropped(_ message: RedisMessage, on channel: String) {
        logger.warning("[Redis] Dropped a malformed broadcast on \(channel) (\(message.payload.readableBytes) bytes)")
    }

    /// How far Redis' clock may run ahead of this node's before an offset is not believed.
    static let clockAllowance: UInt64 = 60_000

    /// Whether an offset could have come from a Redis whose clock is within `clockAllowance`
    /// of `now` (ms since the epoch).
    static func isPlausible(_ offset: RecoveryOffset, now: UInt64) -> Bool {
        offset.milliseconds <= now &+ clockAllowance
    }

    static func wallClockMilliseconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}
