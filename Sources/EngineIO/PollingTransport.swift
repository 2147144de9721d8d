import NIOCore
import HTTPServer
import NIOHTTP1

/// A packet waiting for the client's next long-poll.
enum QueuedPacket {
    case single(EnginePacket)
    case prepared(PreparedMessage)

    var encodedSize: Int {
        switch self {
        case .single(.binaryMessage(let data)): data.readableBytes * 4 / 3 + 4
        case .single(.message(let text)), .single(.open(let text)): text.utf8.count + 1
        case .single: 8
        case .prepared(let message): message.packet.readableBytes
        }
    }

    var packetCount: Int {
        switch self {
        case .single: 1
        case .prepared(let message): message.packetCount
        }
    }

    func write(to buffer: inout ByteBuffer) {
        switch self {
        case .single(let packet): packet.write(to: &buffer)
        case .prepared(let message): buffer.writeImmutableBuffer(message.packet)
        }
    }

    /// Hands the packet to another transport (at the end of an upgrade).
    func send(on transport: any EngineTransport) {
        switch self {
        case .single(let packet): transport.send(packet)
        case .prepared(let message): transport.send(message)
        }
    }
}

/// HTTP long-polling: packets wait in a queue until the client's GET takes them.
///
/// Lives on the session's event loop; the server hops there with each request.
final class PollingTransport: EngineTransport {
    let name = TransportName.polling
    private let eventLoop: any EventLoop
    private let maxQueuedBytes: Int
    private var queue: [QueuedPacket] = []
    private var queuedBytes = 0
    /// The GET that waits for packets.
    private var pendingPoll: HTTPResponder?
    private var flushScheduled = false
    private var closed = false
    /// The session, told when the waiting GET's connection drops or the queue overflows.
    weak var socket: EngineSocket?

    init(eventLoop: any EventLoop, maxQueuedBytes: Int) {
        self.eventLoop = eventLoop
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// A GET from the client; false when another GET is already waiting (the protocol forbids it).
    func poll(_ responder: HTTPResponder) -> Bool {
        guard pendingPoll == nil else { return false }
        guard !closed else {
            responder.respond(.ok, contentType: "text/plain; charset=UTF-8", body: ByteBuffer(string: "1"))
            return true
        }
        pendingPoll = responder
        // A client that drops its long-poll has gone: the Node server closes the session too.
        let box = NIOLoopBound(self, eventLoop: eventLoop)
        let channel = ObjectIdentifier(responder.channel)
        responder.channel.closeFuture.whenComplete { [eventLoop] _ in
            eventLoop.execute { box.value.pollConnectionClosed(channel) }
        }
        if !queue.isEmpty { flush() }
        return true
    }

    private func pollConnectionClosed(_ channel: ObjectIdentifier) {
        guard let pendingPoll, ObjectIdentifier(pendingPoll.channel) == channel else { return }
        self.pendingPoll = nil
        socket?.transportDidClose(self, reason: .transportClose)
    }

    func send(_ packet: EnginePacket) { enqueue(.single(packet)) }
    func send(_ message: PreparedMessage) { enqueue(.prepared(message)) }

    private func enqueue(_ packet: QueuedPacket) {
        guard !closed else { return }
        queue.append(packet)
        queuedBytes += packet.encodedSize
        if queuedBytes > maxQueuedBytes {
            socket?.transportDidClose(self, reason: .transportError)
            return
        }
        // Coalesce what is sent in one loop tick into one response, as the Node server does.
        guard pendingPoll != nil, !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// At most this many packets go in one response (a message is never cut, so one with more
    /// attachments goes alone): python-engineio's client refuses a payload of more than 16
    /// (`Payload.max_decode_packets`) and drops the connection, so a burst of broadcasts cut it
    /// off. The rest waits for the next poll, which a client sends as soon as it has the answer.
    static let maxPacketsPerPayload = 16

    /// Answers the waiting GET with what is queued, at most `maxPacketsPerPayload` packets of
    /// it unless `everything` (the last response of a closing session).
    private func flush(everything: Bool = false) {
        guard let responder = pendingPoll, !queue.isEmpty else { return }
        pendingPoll = nil
        var taken = 0, packets = 0, bytes = 0
        while taken < queue.count {
            let count = queue[taken].packetCount
            if !everything, taken > 0, packets + count > Self.maxPacketsPerPayload { break }
            packets += count
            bytes += queue[taken].encodedSize
            taken += 1
        }
        var body = ByteBuffer()
        body.reserveCapacity(bytes + taken)
        for index in 0..<taken {
            if index > 0 { body.writeInteger(PollingPayload.separator) }
            queue[index].write(to: &body)
        }
        if taken == queue.count {
            queue = []
            queuedBytes = 0
        } else {
            queue.removeFirst(taken)
            queuedBytes -= bytes
        }
        responder.respond(.ok, contentType: "text/plain; charset=UTF-8", body: body)
    }

    /// Takes what the client has not fetched yet, for the transport that replaces this one.
    func takeQueue() -> [QueuedPacket] {
        defer {
            queue = []
            queuedBytes = 0
        }
        return queue
    }

    func close(notifyPeer: Bool) {
        guard !closed else { return }
        if notifyPeer { queue.append(.single(.close)) }
        closed = true
        if pendingPoll != nil {
            if queue.isEmpty { queue.append(.single(.noop)) }
            flush(everything: true)
        }
        queue = []
    }
}
