import CoreMetrics
import EngineIO
import NIOCore

/// The Socket.IO client of one Engine.IO session: decodes packets, runs the CONNECT handshake of
/// the default namespace and hands events to the socket.
final class SocketIOConnection<Namespace: SocketIONamespace>: EngineSocketDelegate {
    private let engine: EngineSocket
    private let server: SocketIOServer<Namespace>
    private let registry: RoomRegistry
    private var socket: SocketIOSocket?
    private var connecting = false
    private var decoder: SocketIOPacketDecoder
    private var connectTimer: Scheduled<Void>?

    init(engine: EngineSocket, server: SocketIOServer<Namespace>, registry: RoomRegistry) {
        self.engine = engine
        self.server = server
        self.registry = registry
        self.decoder = SocketIOPacketDecoder(maxAttachmentBytes: engine.configuration.maxPayload)
        // Like the Node server: a session that joins no namespace in time is closed.
        connectTimer = engine.eventLoop.assumeIsolated().scheduleTask(in: server.connectTimeout) { [weak self] in
            guard let self, self.socket == nil else { return }
            self.engine.close(reason: .forcedClose)
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
            socket.didDisconnect(reason: "client namespace disconnect")
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
        connecting = true
        let namespace = server.namespace
        let handshake = engine.handshake
        let auth = packet.data
        engine.eventLoop.makeFutureWithTask {
            await namespace.authorize(auth: auth, handshake: handshake)
        }.assumeIsolated().whenSuccess { [self] result in
            connecting = false
            guard !engine.isClosed else { return }
            switch result {
            case .success(let grant):
                accept(grant)
            case .failure(let refusal):
                send(SocketIOPacket(kind: .connectError, data: ["message": .string(refusal.message)]))
            }
        }
    }

    private func accept(_ grant: Namespace.Grant) {
        connectTimer?.cancel()
        connectTimer = nil
        let socket = SocketIOSocket(
            id: EngineServer.makeSessionID(),
            engine: engine,
            registry: registry,
            metrics: server.metrics
        )
        self.socket = socket
        registry.add(socket)
        server.metrics.connections.increment()
        send(SocketIOPacket(kind: .connect, data: ["sid": .string(socket.id)]))
        socket.delegate = server.namespace.connect(socket, grant: grant)
    }

    private func send(_ packet: SocketIOPacket) {
        server.metrics.packetsSent.increment()
        engine.send(text: packet.encoded)
    }

    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {
        connectTimer?.cancel()
        connectTimer = nil
        self.socket?.didDisconnect(reason: reason.rawValue)
        self.socket = nil
    }
}
