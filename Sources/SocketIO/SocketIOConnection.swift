import CoreMetrics
import EngineIO
import NIOCore
import Vocabulary

/// The Socket.IO client of one Engine.IO session: decodes packets, runs the CONNECT handshake of
/// the default namespace and hands events to the socket.
final class SocketIOConnection<Namespace: SocketIONamespace>: EngineSocketDelegate {
    private let engine: EngineSocket
    private let server: SocketIOServer<Namespace>
    private let registry: RoomRegistry
    private var socket: SocketIOSocket?
    private var connecting = false
    /// CONNECTs refused so far: a client may try again, but not without end.
    private var refusedConnects: UInt8 = 0
    /// How many refused CONNECTs one session may send before it is closed: each costs a token
    /// check on the event loop, and a burst of them in one read would hold the loop's other
    /// clients (socket.io-client tries again only when told to).
    static var maxRefusedConnects: UInt8 { 5 }
    private var decoder: SocketIOPacketDecoder
    private var connectTimer: Scheduled<Void>?

    init(engine: EngineSocket, server: SocketIOServer<Namespace>, registry: RoomRegistry) {
        self.engine = engine
        self.server = server
        self.registry = registry
        self.decoder = SocketIOPacketDecoder(maxAttachmentBytes: engine.configuration.maxPayload)
        // Like the Node server: a session that joins no namespace in time is closed.
        // Holds the connection until it fires or `accept` cancels it: a weak reference would give
        // every connection a side table for the rest of its life.
        connectTimer = engine.eventLoop.assumeIsolated().scheduleTask(in: server.connectTimeout) { [self] in
            connectTimer = nil
            guard socket == nil else { return }
            engine.close(reason: .forcedClose)
        }
    }

    func engineSocket(_ socket: EngineSocket, didReceiveText text: String) {
        server.metrics.packetsReceived.increment()
        do {
            if let packet = try decoder.receive(text: text) { handle(packet) }
        } catch {
            fail()
        }
    }

    func engineSocket(_ socket: EngineSocket, didReceiveBinary data: ByteBuffer) {
        server.metrics.packetsReceived.increment()
        do {
            if let packet = try decoder.receive(binary: data) { handle(packet) }
        } catch {
            fail()
        }
    }

    /// Protocol garbage closes this connection only (the Node server does the same).
    private func fail() {
        engine.close(reason: .parseError, notifyPeer: false)
    }

    private func handle(_ packet: SocketIOPacket) {
        switch packet.kind {
        case .connect:
            connect(packet)
        case .disconnect:
            guard packet.namespace == "/", let socket else { return }
            self.socket = nil
            socket.didDisconnect(reason: "client namespace disconnect", recoverable: false)
        case .event, .binaryEvent:
            // Events before CONNECT or for another namespace are ignored (SPEC section 3).
            guard packet.namespace == "/", let socket, let name = packet.eventName else { return }
            let ack = packet.id.map { Acknowledgement(id: $0, socket: socket) }
            socket.delegate?.socket(
                socket, didReceiveEvent: name, arguments: packet.eventArguments, attachments: packet.attachments, ack: ack
            )
        case .ack, .binaryAck, .connectError:
            // Herald asks clients for no acknowledgements; nothing waits for these.
            break
        }
    }

    private func connect(_ packet: SocketIOPacket) {
        guard packet.namespace == "/" else {
            send(SocketIOPacket(kind: .connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]))
            return
        }
        guard socket == nil, !connecting else { return }
        let namespace = server.namespace
        let grant: Namespace.Grant
        switch namespace.authorize(auth: packet.data, handshake: engine.handshake) {
        case .success(let granted): grant = granted
        case .failure(let refusal):
            send(SocketIOPacket(kind: .connectError, data: ["message": .string(refusal.message)]))
            refusedConnects += 1
            if refusedConnects >= Self.maxRefusedConnects { engine.close(reason: .forcedClose) }
            return
        }
        // Without a pid to restore, the CONNECT is answered in this turn of the loop.
        guard let recovery = server.recovery, let claim = RecoveryClaim(auth: packet.data) else {
            accept(grant)
            return
        }
        connecting = true
        engine.eventLoop.makeFutureWithTask {
            try? await recovery.restore(pid: claim.pid)
        }.assumeIsolated().whenSuccess { [self] session in
            connecting = false
            guard !engine.isClosed else { return }
            // A session comes back only to a valid token of its owner; anything else (unknown
            // or expired pid, another user's token, the store unreachable) is a fresh session.
            if let session, session.owner == namespace.sessionOwner(of: grant) {
                recover(session, claim: claim, grant: grant, recovery: recovery)
            } else {
                accept(grant)
            }
        }
    }

    private func accept(_ grant: Namespace.Grant) {
        connectTimer?.cancel()
        connectTimer = nil
        var session: SessionState?
        if let recovery = server.recovery, let writes = server.sessionWrites(on: engine.eventLoop) {
            session = SessionState(
                pid: EngineServer.makeSessionID(), owner: server.namespace.sessionOwner(of: grant), recovery: recovery, writes: writes
            )
        }
        let socket = SocketIOSocket(
            id: EngineServer.makeSessionID(), engine: engine, registry: registry, metrics: server.metrics, session: session
        )
        self.socket = socket
        registry.add(socket)
        server.metrics.connections.increment()
        sendConnectReply(socket)
        socket.delegate = server.namespace.connect(socket, grant: grant, recovered: false)
        session?.scheduleSave(of: socket)
    }

    /// `0{"sid":...}`, with `"pid"` after it when the session can be recovered: written in the
    /// Node server's order (a JSON object of ours has no fixed order).
    private func sendConnectReply(_ socket: SocketIOSocket) {
        var text = "0{\"sid\":" + JSONValue.string(socket.id).jsonString
        if let pid = socket.pid { text += ",\"pid\":" + JSONValue.string(pid).jsonString }
        server.metrics.packetsSent.increment()
        engine.send(text: text + "}")
    }

    /// Restores `session`: the same socket id and pid, its rooms (joined at once, so that no
    /// live event is missed, but held back), then the events its rooms missed after the
    /// client's offset, in order, then `connected`, then what arrived live meanwhile.
    private func recover(
        _ stored: RecoverableSession, claim: RecoveryClaim, grant: Namespace.Grant, recovery: any ConnectionRecovery
    ) {
        connectTimer?.cancel()
        connectTimer = nil
        guard let writes = server.sessionWrites(on: engine.eventLoop) else { return }
        let session = SessionState(pid: stored.pid, owner: stored.owner, recovery: recovery, writes: writes)
        let socket = SocketIOSocket(id: stored.sid, engine: engine, registry: registry, metrics: server.metrics, session: session)
        self.socket = socket
        registry.add(socket)
        server.metrics.connections.increment()
        socket.beginReplay()
        for (room, joined) in stored.rooms { socket.join(room, at: joined) }
        // Each room from where the client stands, or from where it joined, whichever is later:
        // events before the join were for other sockets.
        let after = stored.rooms.mapValues { max($0, claim.offset ?? .zero) }
        engine.eventLoop.makeFutureWithTask {
            try await recovery.missedEvents(after: after)
        }.assumeIsolated().whenComplete { [self] result in
            guard !engine.isClosed, socket.isConnected, self.socket === socket else { return }
            guard case .success(let missed?) = result else {
                // The log no longer holds all it missed: a fresh session, which says so.
                self.socket = nil
                socket.abandon()
                return accept(grant)
            }
            sendConnectReply(socket)
            var last = claim.offset ?? .zero
            for event in missed {
                guard let packet = event.packet else { continue }
                socket.sendPacket(packet)
                last = max(last, event.offset)
            }
            socket.delegate = server.namespace.connect(socket, grant: grant, recovered: true)
            socket.endReplay(after: last)
        }
    }

    private func send(_ packet: SocketIOPacket) {
        server.metrics.packetsSent.increment()
        engine.send(text: packet.encoded)
    }

    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {
        connectTimer?.cancel()
        connectTimer = nil
        // Node recovers every lost connection but a protocol error (RECOVERABLE_DISCONNECT_REASONS).
        self.socket?.didDisconnect(reason: reason.rawValue, recoverable: reason != .parseError)
        self.socket = nil
    }
}

/// What a reconnecting client presents in its CONNECT auth: `{pid, offset}` (socket.io-client
/// adds them to the auth it is given); `offset` is absent when it never got an event.
struct RecoveryClaim {
    var pid: String
    var offset: RecoveryOffset?

    init?(auth: JSONValue?) {
        guard let pid = auth?["pid"]?.stringValue, !pid.isEmpty, pid.utf8.count <= 64 else { return nil }
        self.pid = pid
        switch auth?["offset"] {
        case nil, .null?:
            offset = nil
        case .string(let text)?:
            // An offset that is not one of ours (another server's) cannot be placed: fresh session.
            guard let value = RecoveryOffset(text) else { return nil }
            offset = value
        default:
            return nil
        }
    }
}
