import NIOCore

/// What the layer above (Socket.IO) hears from an `EngineSocket`; called on the session's loop.
public protocol EngineSocketDelegate: AnyObject {
    func engineSocket(_ socket: EngineSocket, didReceiveText text: String)
    func engineSocket(_ socket: EngineSocket, didReceiveBinary data: ByteBuffer)
    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason)
}

/// What the server keeps of the request that opened a session.
public struct HandshakeRequest: Sendable {
    /// The `Authorization` header, if any (SPEC section 3 allows the token there).
    public var authorization: String?
    /// The peer's address, for logs.
    public var remoteAddress: String?

    public init(authorization: String? = nil, remoteAddress: String? = nil) {
        self.authorization = authorization
        self.remoteAddress = remoteAddress
    }
}

/// One Engine.IO session: its transport (swapped on upgrade), heartbeat and lifecycle.
///
/// Bound to one event loop; not Sendable, like NIO's handlers. Transports hop to this loop
/// before calling in.
public final class EngineSocket {
    public let id: String
    /// The loop of its heartbeat queue (kept there, not in every session).
    public var eventLoop: any EventLoop { heartbeats.eventLoop }
    public let handshake: HandshakeRequest
    /// The layer above; released when the session closes, which breaks the reference cycle.
    public var delegate: (any EngineSocketDelegate)?

    /// The server's, kept by the loop's heartbeat queue rather than by every session.
    public var configuration: EngineConfiguration { heartbeats.configuration }
    private(set) var transport: any EngineTransport
    /// A WebSocket that is probing to replace the polling transport.
    private var probe: Probe?
    private var heartbeat: Heartbeat = .idle
    /// Counts the pings scheduled; the queue's entries for an earlier one are stale.
    private var beat: UInt32 = 0
    private let heartbeats: HeartbeatQueue
    private(set) public var isClosed = false
    private let didClose: (EngineSocket) -> Void

    /// A WebSocket probing to take over a polling session, and the time it has to do it. A class,
    /// so that sessions that never upgrade (every WebSocket one) keep one word for it.
    private final class Probe {
        let transport: any EngineTransport
        var timer: Scheduled<Void>?

        init(transport: any EngineTransport) {
            self.transport = transport
        }
    }

    /// The heartbeat of Engine.IO v4: the server pings, the client must pong within pingTimeout,
    /// and the next ping comes pingInterval after the pong (as in the Node server).
    enum Heartbeat {
        /// Waiting to send the next ping.
        case idle
        case awaitingPong
    }

    init(
        id: String,
        handshake: HandshakeRequest,
        transport: any EngineTransport,
        heartbeats: HeartbeatQueue,
        didClose: @escaping (EngineSocket) -> Void
    ) {
        self.id = id
        self.handshake = handshake
        self.transport = transport
        self.heartbeats = heartbeats
        self.didClose = didClose
    }

    /// A session with a heartbeat queue of its own (tests).
    convenience init(
        id: String,
        eventLoop: any EventLoop,
        handshake: HandshakeRequest,
        configuration: EngineConfiguration,
        transport: any EngineTransport,
        didClose: @escaping (EngineSocket) -> Void
    ) {
        let heartbeats = HeartbeatQueue(eventLoop: eventLoop, configuration: configuration)
        self.init(id: id, handshake: handshake, transport: transport, heartbeats: heartbeats, didClose: didClose)
    }

    /// The name of the transport in use.
    public var transportName: TransportName { transport.name }

    /// Sends the open packet and starts the heartbeat.
    func open(upgrades: [TransportName]) {
        transport.send(.open(configuration.openPacketData(sid: id, upgrades: upgrades)))
        scheduleNextPing()
    }

    // MARK: Sending

    /// Sends one Engine.IO message carrying `text` (a Socket.IO packet).
    public func send(text: String) {
        guard !isClosed else { return }
        transport.send(.message(text))
    }

    /// Sends a binary message (a Socket.IO attachment).
    public func send(binary: ByteBuffer) {
        guard !isClosed else { return }
        transport.send(.binaryMessage(binary))
    }

    /// Queues a message prepared once for many sockets; true when the session then owes its
    /// transport a `flush()`. A fan-out writes every broadcast that queued up, then flushes each
    /// socket once: one write(2) per socket per batch instead of one per message.
    public func write(_ message: PreparedMessage) -> Bool {
        guard !isClosed else { return false }
        return transport.write(message)
    }

    /// Pushes the broadcasts `write` queued.
    public func flush() {
        transport.flushWrites()
    }

    // MARK: Receiving

    /// A packet from `source`; packets from a transport that is neither current nor probing are stale.
    func receive(_ packet: EnginePacket, from source: any EngineTransport) {
        guard !isClosed else { return }
        if source === transport {
            receiveOnCurrentTransport(packet)
        } else if let probe = probe?.transport, source === probe {
            receiveOnProbe(packet, probe: probe)
        }
    }

    private func receiveOnCurrentTransport(_ packet: EnginePacket) {
        switch packet {
        case .message(let text):
            delegate?.engineSocket(self, didReceiveText: text)
        case .binaryMessage(let data):
            delegate?.engineSocket(self, didReceiveBinary: data)
        case .pong:
            if case .awaitingPong = heartbeat { scheduleNextPing() }
        case .ping(let data):
            transport.send(.pong(data))
        case .close:
            close(reason: .transportClose, notifyPeer: false)
        case .noop, .upgrade:
            break
        case .open:
            close(reason: .parseError, notifyPeer: false)
        }
    }

    // MARK: Upgrade (polling to WebSocket)

    /// A WebSocket asks to take over this polling session; false refuses it.
    func beginUpgrade(to candidate: any EngineTransport) -> Bool {
        guard !isClosed, probe == nil, transport.name == .polling else { return false }
        probe = Probe(transport: candidate)
        probe?.timer = eventLoop.assumeIsolated().scheduleTask(in: configuration.upgradeTimeout) { [self] in
            abandonProbe()
        }
        return true
    }

    private func receiveOnProbe(_ packet: EnginePacket, probe: any EngineTransport) {
        switch packet {
        case .ping("probe"):
            probe.send(.pong("probe"))
            // Ends the pending long-poll so the client can pause polling and send `5`.
            transport.send(.noop)
        case .upgrade:
            self.probe?.timer?.cancel()
            let polling = transport
            transport = probe
            self.probe = nil
            if let polling = polling as? PollingTransport {
                for queued in polling.takeQueue() { queued.send(on: probe) }
            }
            polling.close(notifyPeer: false)
        default:
            abandonProbe()
        }
    }

    private func abandonProbe() {
        probe?.timer?.cancel()
        probe?.transport.close(notifyPeer: false)
        probe = nil
    }

    /// A transport ended (its connection closed or failed).
    func transportDidClose(_ closed: any EngineTransport, reason: EngineCloseReason) {
        if closed === transport {
            close(reason: reason, notifyPeer: false)
        } else if let probe = probe?.transport, closed === probe {
            abandonProbe()
        }
    }

    // MARK: Heartbeat

    private func scheduleNextPing() {
        beat &+= 1
        heartbeat = .idle
        heartbeats.schedule(.ping, for: self, beat: beat, at: eventLoop.now + configuration.pingInterval)
    }

    /// Called by the queue when an entry of this session comes due.
    func heartbeatDue(_ kind: HeartbeatQueue.Kind, beat: UInt32) {
        guard !isClosed, beat == self.beat else { return }
        switch (kind, heartbeat) {
        case (.ping, .idle):
            heartbeat = .awaitingPong
            transport.send(.ping(""))
            heartbeats.schedule(.timeout, for: self, beat: beat, at: eventLoop.now + configuration.pingTimeout)
        case (.timeout, .awaitingPong):
            close(reason: .pingTimeout, notifyPeer: false)
        case (.ping, .awaitingPong), (.timeout, .idle):
            break
        }
    }

    // MARK: Closing

    /// Ends the session; `notifyPeer` sends a proper close so the client reconnects at once.
    public func close(reason: EngineCloseReason, notifyPeer: Bool = true) {
        guard !isClosed else { return }
        isClosed = true
        abandonProbe()
        transport.close(notifyPeer: notifyPeer)
        delegate?.engineSocket(self, didCloseWith: reason)
        delegate = nil
        didClose(self)
    }
}
