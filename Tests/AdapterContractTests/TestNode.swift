import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore

@testable import EngineIO
@testable import SocketIO

/// A transport that keeps what its socket was sent; read from any thread.
final class RecordingTransport: EngineTransport, Sendable {
    struct Record: Sendable {
        /// The Socket.IO packets sent, single or broadcast, in order (their text form).
        var texts: [String] = []
        var closed = false
    }

    let name = TransportName.websocket
    let record = NIOLockedValueBox(Record())

    func send(_ packet: EnginePacket) {
        if case .message(let text) = packet { record.withLockedValue { $0.texts.append(text) } }
    }

    func send(_ message: PreparedMessage) {
        var packet = message.packet
        packet.moveReaderIndex(forwardBy: 1)  // the Engine.IO type digit `4`
        let text = String(buffer: packet)
        record.withLockedValue { $0.texts.append(text) }
    }

    func close(notifyPeer: Bool) {
        record.withLockedValue { $0.closed = true }
    }
}

/// What one socket looks like from outside: its rooms, whether it is connected and what it got.
struct SocketState: Equatable, Sendable, CustomStringConvertible {
    var rooms: Set<String>
    var connected: Bool
    /// The Engine.IO connection was closed too.
    var closed: Bool
    /// The event names received, `disconnect` for a DISCONNECT packet, else the packet text.
    var received: [String]

    var description: String {
        "rooms \(rooms.sorted()) connected \(connected) closed \(closed) received \(received)"
    }
}

/// One server node: an adapter over its own `LocalAdapter`, and sockets made by hand on the
/// loops of that adapter's group (spread over the loops, so every shard is exercised).
final class TestNode: Sendable {
    private struct Member: Sendable {
        let socket: NIOLoopBound<SocketIOSocket>
        let transport: RecordingTransport
    }

    /// Prefixes the ids of this node's sockets: `A-a` is socket `a` on node `A`.
    let name: String
    let adapter: any Adapter
    let local: LocalAdapter
    private let loops: [any EventLoop]
    private let metrics: SocketIOMetrics
    private let members = NIOLockedValueBox<[String: Member]>([:])

    init(name: String, adapter: any Adapter, local: LocalAdapter, group: any EventLoopGroup, metrics: SocketIOMetrics) {
        self.name = name
        self.adapter = adapter
        self.local = local
        self.loops = Array(group.makeIterator())
        self.metrics = metrics
    }

    func id(_ localID: String) -> String { "\(name)-\(localID)" }

    /// Makes socket `localID` of this node, in `rooms`; returns its full id.
    @discardableResult
    func addSocket(_ localID: String, rooms: [String]) async throws -> String {
        let id = id(localID)
        let loop = loops[members.withLockedValue { $0.count } % loops.count]
        let transport = RecordingTransport()
        let local = self.local, metrics = self.metrics
        let socket = try await loop.submit {
            let registry = local.registry(on: loop)
            let engine = EngineSocket(
                id: "e-\(id)", eventLoop: loop, handshake: .init(), configuration: .init(), transport: transport
            ) { _ in }
            let socket = SocketIOSocket(id: id, engine: engine, registry: registry, metrics: metrics)
            registry.add(socket)
            rooms.forEach(socket.join)
            return NIOLoopBound(socket, eventLoop: loop)
        }.get()
        members.withLockedValue { $0[id] = Member(socket: socket, transport: transport) }
        return id
    }

    /// Every socket of this node, read on its own loop.
    func snapshot() async throws -> [String: SocketState] {
        var states: [String: SocketState] = [:]
        for (id, member) in members.withLockedValue({ $0 }) {
            let bound = member.socket
            let (rooms, connected) = try await bound.eventLoop.submit { (bound.value.rooms, bound.value.isConnected) }.get()
            let record = member.transport.record.withLockedValue { $0 }
            states[id] = SocketState(rooms: rooms, connected: connected, closed: record.closed, received: record.texts.map(Self.label))
        }
        return states
    }

    private static func label(_ text: String) -> String {
        guard let packet = try? SocketIOPacket(decoding: text) else { return text }
        if packet.kind == .disconnect { return "disconnect" }
        return packet.eventName ?? text
    }
}

extension TestNode {
    /// A node on a `LocalAdapter` alone.
    static func local(name: String, group: any EventLoopGroup) -> TestNode {
        let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
        let local = LocalAdapter(group: group, metrics: metrics, logger: Logger(label: "test"))
        return TestNode(name: name, adapter: local, local: local, group: group, metrics: metrics)
    }
}
