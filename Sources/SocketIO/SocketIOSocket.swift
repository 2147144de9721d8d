import CoreMetrics
import EngineIO
import NIOCore
import Vocabulary

/// What a product layer hears from its socket; called on the socket's event loop.
public protocol SocketDelegate: AnyObject {
    /// An EVENT (or BINARY_EVENT) from the client; `ack` is set when the client asked for an
    /// acknowledgement. A binary event's arguments hold placeholders for its `attachments`.
    func socket(
        _ socket: SocketIOSocket, didReceiveEvent name: String, arguments: [JSONValue], attachments: [ByteBuffer],
        ack: Acknowledgement?
    )
    /// The socket left the namespace (client disconnect, transport close, ping timeout...).
    func socket(_ socket: SocketIOSocket, didDisconnectWith reason: String)
    /// What `fetchSockets` reports as the socket's `data` (Herald: `{userId}`, SPEC 5.1).
    /// Asked when needed rather than stored: an idle socket should not carry it.
    var socketData: JSONValue { get }
}

/// The answer a client waits for; `send` it at most once.
///
/// It keeps its socket alive: an answer computed off the loop (the notification center) may
/// come after the client left, and is then dropped by `sendPacket`, not sent through a dangling
/// reference.
public struct Acknowledgement {
    let id: Int
    let socket: SocketIOSocket

    public func send(_ arguments: JSONValue...) {
        socket.sendPacket(SocketIOPacket(kind: .ack, id: id, data: .array(arguments)))
    }
}

/// A Socket.IO socket in the default namespace: its id, rooms and data.
///
/// Bound to its Engine.IO session's event loop; not Sendable.
public final class SocketIOSocket {
    /// The Socket.IO id (what `socket.id` shows in the client), not the Engine.IO session id.
    public let id: String
    public var namespace: String { "/" }
    public var handshake: HandshakeRequest { engine.handshake }
    /// The Engine.IO transport in use right now.
    public var transportName: TransportName { engine.transportName }
    /// What `fetchSockets` reports for this socket (its delegate's `socketData`).
    public var data: JSONValue { delegate?.socketData ?? .null }
    /// The rooms joined, not counting the implicit room named by `id`.
    public var rooms: Set<String> { Set(roomList) }
    /// The same, in the order they were joined: a socket is in a few rooms, and an array of
    /// them takes half the bytes of a set (heaptrack counted each idle connection's).
    public private(set) var roomList: [String] = []
    public var delegate: (any SocketDelegate)?
    public private(set) var isConnected = true

    let engine: EngineSocket
    private let registry: RoomRegistry
    private let metrics: SocketIOMetrics
    /// The recovery state, when connection state recovery is on.
    let session: SessionState?

    init(id: String, engine: EngineSocket, registry: RoomRegistry, metrics: SocketIOMetrics, session: SessionState? = nil) {
        self.id = id
        self.engine = engine
        self.registry = registry
        self.metrics = metrics
        self.session = session
    }

    /// The private session id a recovering client presents (`pid`), when recovery is on.
    public var pid: String? { session?.pid }

    /// Whether the socket is in `room` (its own id's room aside).
    public func isIn(_ room: String) -> Bool { roomList.contains(room) }

    /// The event loop the socket lives on.
    public var eventLoop: any EventLoop { engine.eventLoop }

    public func join(_ room: String) {
        join(room, at: nil)
    }

    /// Joins `room`; a recovered room keeps the offset it was first joined at, a new one takes
    /// the node's high-water mark (every event at or before it was for other sockets).
    func join(_ room: String, at offset: RecoveryOffset?) {
        guard isConnected, !roomList.contains(room) else { return }
        roomList.append(room)
        registry.join(self, room: room)
        if let session {
            session.joined(room, at: offset ?? session.recovery.highWaterMark())
            session.scheduleSave(of: self)
        }
    }

    public func leave(_ room: String) {
        guard let index = roomList.firstIndex(of: room) else { return }
        roomList.remove(at: index)
        registry.leave(self, room: room)
        if let session {
            session.left(room)
            session.scheduleSave(of: self)
        }
    }

    /// Emits an event to this socket alone.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        sendPacket(.event(event, arguments))
    }

    func sendPacket(_ packet: SocketIOPacket) {
        guard isConnected else { return }
        metrics.packetsSent.increment()
        engine.send(text: packet.encoded)
        for attachment in packet.attachments { engine.send(binary: attachment) }
    }

    /// Queues a broadcast prepared once for all its recipients; true when the socket then
    /// needs `flush()` (see `EngineSocket.write`). While the socket replays what it missed,
    /// live broadcasts are held back, to follow the replay.
    func write(_ message: PreparedMessage, offset: RecoveryOffset? = nil) -> Bool {
        guard isConnected, !engine.isClosed else {
            metrics.deliveryErrors.increment()
            return false
        }
        if let session {
            if session.held != nil {
                session.held?.append((message, offset))
                return false
            }
            if let through = session.replayedThrough, let offset {
                // Logged before the replay read it, but published after: the client has it.
                guard offset > through else { return false }
                session.replayedThrough = nil
            }
        }
        return engine.write(message)
    }

    /// Queues broadcasts that all select this socket, in order, as one write of `combined` (their
    /// messages concatenated, made once for all members); true when the socket then needs
    /// `flush()`. A socket replaying what it missed, or just after, takes them one by one: their
    /// offsets decide which it gets. So does a polling one: its responses carry a bounded number
    /// of packets, and a run may be longer.
    func write(_ run: LocalAdapter.Run, combined: () -> PreparedMessage) -> Bool {
        let replaying = session.map { $0.held != nil || $0.replayedThrough != nil } ?? false
        if replaying || engine.transportName == .polling {
            var first = false
            for item in run {
                if write(item.message, offset: item.offset) { first = true }
            }
            return first
        }
        guard isConnected, !engine.isClosed else {
            metrics.deliveryErrors.increment(by: Int64(run.count))
            return false
        }
        return engine.write(combined())
    }

    /// Holds live broadcasts back until `endReplay`.
    func beginReplay() {
        session?.held = []
    }

    /// Writes the broadcasts held back during the replay, but those the client has had already
    /// (an offset at or before `after`: replayed, or delivered before it dropped).
    func endReplay(after: RecoveryOffset) {
        guard let held = session?.held else { return }
        session?.held = nil
        var last = after
        var wrote = false
        for (message, offset) in held {
            if let offset {
                guard offset > last else { continue }
                last = offset
            }
            if write(message, offset: offset) { wrote = true }
        }
        // An event is logged and published in one step, but its publication can reach this node
        // after the replay has read it from the log: until a later offset comes, live events up
        // to the last one the client has are skipped (events come in offset order).
        session?.replayedThrough = last
        if wrote { flush() }
    }

    func flush() {
        engine.flush()
    }

    /// Server-side disconnect: tells the client (which then does not reconnect by itself) and
    /// optionally closes the underlying connection.
    public func disconnect(closeConnection: Bool = false) {
        guard isConnected else { return }
        sendPacket(SocketIOPacket(kind: .disconnect))
        didDisconnect(reason: "server namespace disconnect", recoverable: false)
        if closeConnection { engine.close(reason: .forcedClose) }
    }

    /// Leaves every room at once and tells the delegate. A lost connection leaves its session
    /// to be restored within the window; a namespace disconnect ends it.
    func didDisconnect(reason: String, recoverable: Bool) {
        guard isConnected else { return }
        isConnected = false
        registry.remove(self)
        roomList.removeAll()
        session?.end(recoverable ? .release : .discard, of: self)
        metrics.connections.decrement()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.socket(self, didDisconnectWith: reason)
    }

    /// Takes back a socket that was never announced (its recovery fell through): it leaves its
    /// rooms, and its stored session stays as it was.
    func abandon() {
        guard isConnected else { return }
        isConnected = false
        registry.remove(self)
        roomList.removeAll()
        session?.held = nil
        metrics.connections.decrement()
    }

    var details: SocketDetails {
        var rooms = Set(roomList)
        rooms.insert(id)
        return SocketDetails(id: id, rooms: rooms, data: data)
    }
}
