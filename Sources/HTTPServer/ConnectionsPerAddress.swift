import NIOConcurrencyHelpers
import NIOCore

/// How many connections each peer address holds, and a bound on it.
///
/// One address opening thousands of connections would take every file descriptor of the node
/// from everyone else. The count changes only when a connection opens or closes (a lock on that
/// cold path, never on a read or a write). Off (0) by default: behind nginx every client comes
/// from nginx's address, and the bound belongs there (`limit_conn`).
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection from `address`; false (and nothing counted) when it is one too many.
    func admit(_ address: String) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
    }

    func release(_ address: String) {
        counts.withLockedValue { counts in
            guard let current = counts[address] else { return }
            counts[address] = current > 1 ? current - 1 : nil
        }
    }
}

/// The first handler of a connection: closes it at once when its address holds too many already.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connections: ConnectionsPerAddress
    private var admitted: String?

    init(connections: ConnectionsPerAddress) {
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "?"
        guard connections.admit(address) else {
            context.close(promise: nil)
            return
        }
        admitted = address
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let admitted { connections.release(admitted) }
        admitted = nil
        context.fireChannelInactive()
    }
}
