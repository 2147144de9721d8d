import HTTPServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import EngineIO

/// A transport that records what the session sends.
final class RecordingTransport: EngineTransport {
    let name: TransportName
    var sent: [EnginePacket] = []
    var prepared: [PreparedMessage] = []
    var closed: Bool?

    init(_ name: TransportName) { self.name = name }

    func send(_ packet: EnginePacket) { sent.append(packet) }
    func send(_ message: PreparedMessage) { prepared.append(message) }
    func close(notifyPeer: Bool) { closed = notifyPeer }
}

final class RecordingDelegate: EngineSocketDelegate {
    var texts: [String] = []
    var closeReason: EngineCloseReason?

    func engineSocket(_ socket: EngineSocket, didReceiveText text: String) { texts.append(text) }
    func engineSocket(_ socket: EngineSocket, didReceiveBinary data: ByteBuffer) {}
    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) { closeReason = reason }
}

@Suite struct EngineSocketTests {
    let loop = EmbeddedEventLoop()

    var configuration: EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.pingInterval = .seconds(25)
        configuration.pingTimeout = .seconds(20)
        return configuration
    }

    func makeSocket(_ transport: any EngineTransport, heartbeats: HeartbeatQueue? = nil) -> (EngineSocket, RecordingDelegate) {
        let socket = EngineSocket(
            id: "sid", handshake: .init(), transport: transport,
            heartbeats: heartbeats ?? HeartbeatQueue(eventLoop: loop, configuration: configuration)
        ) { _ in }
        let delegate = RecordingDelegate()
        socket.delegate = delegate
        return (socket, delegate)
    }

    @Test func opensThenPingsAndClosesASilentClient() {
        let transport = RecordingTransport(.websocket)
        let (socket, delegate) = makeSocket(transport)
        socket.open(upgrades: [])
        #expect(transport.sent.count == 1)
        loop.advanceTime(by: .seconds(25))
        #expect(transport.sent.last == .ping(""))
        loop.advanceTime(by: .seconds(19))
        #expect(delegate.closeReason == nil)
        loop.advanceTime(by: .seconds(1))
        #expect(delegate.closeReason == .pingTimeout)
        #expect(socket.isClosed)
        #expect(transport.closed == false)
    }

    @Test func aClientThatPongsStays() {
        let transport = RecordingTransport(.websocket)
        let (socket, delegate) = makeSocket(transport)
        socket.open(upgrades: [])
        // The next ping comes pingInterval after the pong, as in the Node server.
        for _ in 0..<5 {
            loop.advanceTime(by: .seconds(26))
            #expect(transport.sent.last == .ping(""))
            socket.receive(.pong(""), from: transport)
        }
        #expect(delegate.closeReason == nil)
        #expect(transport.sent.filter { $0 == .ping("") }.count == 5)
    }

    @Test func messagesReachTheDelegateAndCloseEndsTheSession() {
        let transport = RecordingTransport(.websocket)
        let (socket, delegate) = makeSocket(transport)
        socket.receive(.message("2[\"x\"]"), from: transport)
        socket.receive(.message("ignored"), from: RecordingTransport(.websocket))
        #expect(delegate.texts == ["2[\"x\"]"])
        socket.receive(.close, from: transport)
        #expect(delegate.closeReason == .transportClose)
        socket.send(text: "after close")
        #expect(transport.sent.isEmpty)
    }

    @Test func upgradeFromPollingToWebSocket() {
        let polling = PollingTransport(eventLoop: loop, maxQueuedBytes: 1 << 20)
        let (socket, _) = makeSocket(polling)
        polling.socket = socket
        let probe = RecordingTransport(.websocket)
        #expect(socket.beginUpgrade(to: probe))
        #expect(!socket.beginUpgrade(to: RecordingTransport(.websocket)))
        socket.receive(.ping("probe"), from: probe)
        #expect(probe.sent == [.pong("probe")])
        socket.send(text: "queued while upgrading")
        socket.receive(.upgrade, from: probe)
        #expect(socket.transportName == .websocket)
        // The noop that released the poll and the message are handed to the WebSocket in order.
        #expect(probe.sent == [.pong("probe"), .noop, .message("queued while upgrading")])
        socket.send(text: "after")
        #expect(probe.sent.last == .message("after"))
    }

    @Test func aProbeThatNeverUpgradesIsDropped() {
        let polling = PollingTransport(eventLoop: loop, maxQueuedBytes: 1 << 20)
        let (socket, delegate) = makeSocket(polling)
        let probe = RecordingTransport(.websocket)
        #expect(socket.beginUpgrade(to: probe))
        loop.advanceTime(by: .seconds(10))
        #expect(probe.closed == false)
        #expect(socket.transportName == .polling)
        #expect(delegate.closeReason == nil)
    }

    /// A poll is answered with at most 16 packets (python-engineio's client drops a connection
    /// whose payload has more); the rest goes with the next poll, in order, and a message is not cut.
    @Test func aPollCarriesAtMostSixteenPackets() throws {
        let polling = PollingTransport(eventLoop: loop, maxQueuedBytes: 1 << 20)
        let (socket, _) = makeSocket(polling)
        polling.socket = socket
        for index in 0..<15 { socket.send(text: "m\(index)") }
        let binary = PreparedMessage(message: ByteBuffer(string: "b"), attachments: [ByteBuffer(string: "x"), ByteBuffer(string: "y")])
        polling.send(binary)
        for index in 15..<20 { socket.send(text: "m\(index)") }
        func poll() throws -> [EnginePacket] {
            let channel = EmbeddedChannel(loop: loop)
            #expect(polling.poll(HTTPResponder(channel: channel, request: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"))))
            loop.run()
            guard case .head? = try channel.readOutbound(as: HTTPServerResponsePart.self),
                  case .body(.byteBuffer(let body))? = try channel.readOutbound(as: HTTPServerResponsePart.self)
            else { throw PollingTestError() }
            return try PollingPayload.decode(body)
        }
        #expect(try poll() == (0..<15).map { .message("m\($0)") }, "the message of 3 packets waits for the next poll")
        let second = try poll()
        #expect(second.count == 8)
        #expect(second.first == .message("b") && second.dropFirst(3) == ArraySlice((15..<20).map { .message("m\($0)") }))
    }

    struct PollingTestError: Error {}

    @Test func anOverfullPollingQueueClosesTheSession() {
        let polling = PollingTransport(eventLoop: loop, maxQueuedBytes: 100)
        let (socket, delegate) = makeSocket(polling)
        polling.socket = socket
        for _ in 0..<10 { socket.send(text: String(repeating: "x", count: 20)) }
        #expect(delegate.closeReason == .transportError)
    }

    /// Entries keep deadline order whichever way they come: at the back in O(1) (the usual
    /// case), walked into place otherwise, equal deadlines in arrival order.
    @Test func heartbeatEntriesStayInDeadlineOrder() {
        let (socket, _) = makeSocket(RecordingTransport(.websocket))
        var queue = CircularBuffer<HeartbeatQueue.Entry>()
        for (beat, at) in [(0, 30), (1, 10), (2, 20), (3, 40), (4, 40), (5, 5)] as [(UInt32, Int64)] {
            HeartbeatQueue.insert(.init(deadline: .uptimeNanoseconds(UInt64(at)), socket: socket, beat: beat), into: &queue)
        }
        #expect(queue.map(\.beat) == [5, 1, 2, 0, 3, 4])
    }

    /// The sessions of a loop share one queue: each is pinged on its own schedule, a silent one
    /// times out while the others stay, and answered heartbeats leave no entries piling up.
    @Test func sessionsShareOneHeartbeatQueue() {
        let queue = HeartbeatQueue(eventLoop: loop, configuration: configuration)
        let early = RecordingTransport(.websocket), late = RecordingTransport(.websocket)
        let (earlySocket, earlyDelegate) = makeSocket(early, heartbeats: queue)
        earlySocket.open(upgrades: [])
        loop.advanceTime(by: .seconds(10))
        let (lateSocket, lateDelegate) = makeSocket(late, heartbeats: queue)
        lateSocket.open(upgrades: [])

        loop.advanceTime(by: .seconds(15))  // t = 25: the early one's ping, not yet the late one's
        #expect(early.sent.last == .ping(""))
        #expect(late.sent.last != .ping(""))
        earlySocket.receive(.pong(""), from: early)
        loop.advanceTime(by: .seconds(10))  // t = 35: the late one's ping
        #expect(late.sent.last == .ping(""))

        // The late one never answers: it times out at t = 55; the early one, answering, stays.
        loop.advanceTime(by: .seconds(15))  // t = 50: the early one's second ping
        #expect(early.sent.filter { $0 == .ping("") }.count == 2)
        earlySocket.receive(.pong(""), from: early)
        loop.advanceTime(by: .seconds(5))
        #expect(lateDelegate.closeReason == .pingTimeout)
        #expect(earlyDelegate.closeReason == nil)

        for _ in 0..<20 {
            loop.advanceTime(by: .seconds(25))
            earlySocket.receive(.pong(""), from: early)
        }
        #expect(earlyDelegate.closeReason == nil)
        #expect(queue.count <= 2)
    }
}
