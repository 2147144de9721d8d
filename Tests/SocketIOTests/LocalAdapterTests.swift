import CoreMetrics
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
import Vocabulary

@testable import EngineIO
@testable import SocketIO

/// A transport that keeps what a socket was sent, and counts the flushes of broadcast writes.
final class SinkTransport: EngineTransport {
    let name = TransportName.websocket
    var packets: [EnginePacket] = []
    var frames: [ByteBuffer] = []
    var flushes = 0
    private var unflushed = false

    func send(_ packet: EnginePacket) { packets.append(packet) }
    func send(_ message: PreparedMessage) { frames.append(message.webSocketFrame) }
    func write(_ message: PreparedMessage) -> Bool {
        frames.append(message.webSocketFrame)
        defer { unflushed = true }
        return !unflushed
    }
    func flushWrites() {
        #expect(unflushed, "a flush nobody owed")
        unflushed = false
        flushes += 1
    }
    func close(notifyPeer: Bool) {}

    /// The payload of every WebSocket frame written, in order, however many one write carried.
    var texts: [String] {
        frames.flatMap { written in
            var buffer = written, texts: [String] = []
            while let _ = buffer.readInteger(as: UInt8.self), let short = buffer.readInteger(as: UInt8.self) {
                var length = Int(short & 0x7F)
                if length == 126 { length = Int(buffer.readInteger(as: UInt16.self) ?? 0) }
                if length == 127 { length = Int(buffer.readInteger(as: UInt64.self) ?? 0) }
                guard let text = buffer.readString(length: length) else { break }
                texts.append(text)
            }
            return texts
        }
    }
}

/// An adapter on one embedded event loop with sockets made by hand.
final class AdapterFixture {
    let loop = EmbeddedEventLoop()
    let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
    let adapter: LocalAdapter
    var sinks: [String: SinkTransport] = [:]
    var sockets: [String: SocketIOSocket] = [:]

    init() {
        adapter = LocalAdapter(group: loop, metrics: metrics, logger: Logger(label: "test"))
    }

    var registry: RoomRegistry { adapter.registry(on: loop) }

    @discardableResult
    func socket(_ id: String, rooms: [String]) -> SocketIOSocket {
        let sink = SinkTransport()
        let engine = EngineSocket(
            id: "e-\(id)", eventLoop: loop, handshake: .init(), configuration: .init(), transport: sink
        ) { _ in }
        let socket = SocketIOSocket(id: id, engine: engine, registry: registry, metrics: metrics)
        registry.add(socket)
        rooms.forEach(socket.join)
        sinks[id] = sink
        sockets[id] = socket
        return socket
    }

    /// How many messages each socket was sent (frames, not writes).
    func frameCounts() -> [String: Int] {
        sinks.mapValues(\.texts.count).filter { $0.value > 0 }
    }

    func broadcast(_ options: BroadcastOptions) async throws {
        try await adapter.broadcast(.event("points_added", [["amount": 5]]), options: options)
        loop.run()
    }
}

@Suite struct LocalAdapterTests {
    @Test func roomsUnionOncePerSocket() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: ["guest:g", "user:g"])
        fixture.socket("b", rooms: ["restaurant:r"])
        fixture.socket("c", rooms: ["guest:other"])
        fixture.socket("d", rooms: ["guest:g", "restaurant:r"])
        try await fixture.broadcast(BroadcastOptions(rooms: ["guest:g", "restaurant:r", "user:g"]))
        #expect(fixture.frameCounts() == ["a": 1, "b": 1, "d": 1])
    }

    @Test func exceptAndEveryone() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: ["admin"])
        fixture.socket("b", rooms: ["guest:g"])
        fixture.socket("c", rooms: [])
        try await fixture.broadcast(BroadcastOptions(except: ["admin"]))
        #expect(fixture.frameCounts() == ["b": 1, "c": 1])
        try await fixture.broadcast(BroadcastOptions(rooms: ["guest:g", "admin"], except: ["b"]))
        #expect(fixture.frameCounts() == ["a": 1, "b": 1, "c": 1])
    }

    /// A socket id names a room that holds only that socket, as in Socket.IO.
    @Test func socketIDIsARoom() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: [])
        fixture.socket("b", rooms: [])
        try await fixture.broadcast(BroadcastOptions(rooms: ["b"]))
        #expect(fixture.frameCounts() == ["b": 1])
    }

    /// The frame is encoded once: every recipient is handed the very same bytes.
    @Test func oneEncodingForEveryRecipient() async throws {
        let fixture = AdapterFixture()
        for index in 0..<5 { fixture.socket("s\(index)", rooms: ["restaurant:r"]) }
        try await fixture.broadcast(BroadcastOptions(rooms: ["restaurant:r"]))
        let frames = fixture.sinks.values.flatMap(\.frames)
        #expect(frames.count == 5)
        let addresses = Set(frames.map { $0.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } })
        #expect(addresses.count == 1)
        var frame = frames[0]
        frame.moveReaderIndex(forwardBy: 2)
        #expect(String(buffer: frame) == #"42["points_added",{"amount":5}]"#)
    }

    /// Broadcasts that queue while the loop is busy go out together: every frame, one flush
    /// per socket (one write(2) instead of one per message).
    @Test func queuedBroadcastsShareOneFlush() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: ["restaurant:r", "guest:g"])
        fixture.socket("b", rooms: ["restaurant:r"])
        for _ in 0..<3 {
            try await fixture.adapter.broadcast(.event("points_added", [["amount": 5]]), options: BroadcastOptions(rooms: ["restaurant:r"]))
        }
        try await fixture.adapter.broadcast(.event("card_created", []), options: BroadcastOptions(rooms: ["guest:g"]))
        fixture.loop.run()
        #expect(fixture.frameCounts() == ["a": 4, "b": 3])
        #expect(fixture.sinks.mapValues(\.flushes) == ["a": 1, "b": 1])
        try await fixture.broadcast(BroadcastOptions(rooms: ["guest:g"]))
        #expect(fixture.sinks.mapValues(\.flushes) == ["a": 2, "b": 1])
    }

    /// Broadcasts in a row with the same selection are one write per member, of one buffer made
    /// for all of them, with every message in order; a different selection starts a new run.
    @Test func aRunOfBroadcastsIsOneWritePerMember() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: ["restaurant:r", "guest:g"])
        fixture.socket("b", rooms: ["restaurant:r"])
        let room = BroadcastOptions(rooms: ["restaurant:r"])
        for amount in 1...3 {
            try await fixture.adapter.broadcast(.event("points_added", [["amount": .number(Double(amount))]]), options: room)
        }
        try await fixture.adapter.broadcast(.event("card_created", []), options: BroadcastOptions(rooms: ["guest:g"]))
        try await fixture.adapter.broadcast(.event("points_added", [["amount": 4]]), options: room)
        fixture.loop.run()
        let added = (1...4).map { #"42["points_added",{"amount":\#($0)}]"# }
        #expect(fixture.sinks["a"]!.texts == added.prefix(3) + [#"42["card_created"]"#, added[3]])
        #expect(fixture.sinks["b"]!.texts == Array(added))
        #expect(fixture.sinks["a"]!.frames.count == 3 && fixture.sinks["b"]!.frames.count == 2)
        let first = [fixture.sinks["a"]!.frames[0], fixture.sinks["b"]!.frames[0]]
        #expect(Set(first.map { $0.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } }).count == 1, "made once")
    }

    /// A room grows from one member to many and back, and goes when its last member leaves.
    @Test func roomsGrowAndShrink() async throws {
        let fixture = AdapterFixture()
        let a = fixture.socket("a", rooms: ["restaurant:r"])
        let b = fixture.socket("b", rooms: ["restaurant:r"])
        let c = fixture.socket("c", rooms: ["restaurant:r"])
        a.join("restaurant:r")
        #expect(fixture.registry.membershipCount == 3)
        b.leave("restaurant:r")
        c.leave("restaurant:r")
        #expect(fixture.registry.membershipCount == 1)
        try await fixture.broadcast(BroadcastOptions(rooms: ["restaurant:r"]))
        #expect(fixture.frameCounts() == ["a": 1])
        c.join("restaurant:r")
        a.leave("restaurant:r")
        c.leave("restaurant:r")
        #expect(fixture.registry.roomNames.isEmpty)
        try await fixture.broadcast(BroadcastOptions(rooms: ["restaurant:r"]))
        #expect(fixture.frameCounts() == ["a": 1])
    }

    @Test func disconnectLeavesEveryRoom() async throws {
        let fixture = AdapterFixture()
        let socket = fixture.socket("a", rooms: ["guest:g", "user:g", "restaurant:r"])
        fixture.socket("b", rooms: ["guest:g"])
        #expect(fixture.registry.membershipCount == 4)
        socket.didDisconnect(reason: "transport close", recoverable: true)
        #expect(fixture.registry.membershipCount == 1)
        #expect(Set(fixture.registry.roomNames) == ["guest:g"])
        #expect(fixture.registry.socketCount == 1)
        try await fixture.broadcast(BroadcastOptions(rooms: ["guest:g", "b"]))
        #expect(fixture.frameCounts() == ["b": 1])
    }

    @Test func remoteJoinLeaveFetchAndDisconnect() async throws {
        let fixture = AdapterFixture()
        fixture.socket("a", rooms: ["guest:g"])
        fixture.socket("b", rooms: ["guest:h"])
        fixture.socket("c", rooms: ["admin"])
        try await fixture.adapter.addSockets(BroadcastOptions(rooms: ["guest:g", "guest:h"]), rooms: ["restaurant:r"])
        #expect(fixture.sockets["a"]!.rooms == ["guest:g", "restaurant:r"])
        let fetched = try await fixture.adapter.fetchSockets(BroadcastOptions(rooms: ["restaurant:r"]))
        #expect(Set(fetched.map(\.id)) == ["a", "b"])
        #expect(fetched.first { $0.id == "a" }?.rooms == ["a", "guest:g", "restaurant:r"])
        try await fixture.adapter.delSockets(BroadcastOptions(rooms: ["guest:h"]), rooms: ["restaurant:r"])
        #expect(fixture.sockets["b"]!.rooms == ["guest:h"])
        try await fixture.adapter.disconnectSockets(BroadcastOptions(rooms: ["admin"]), close: false)
        #expect(!fixture.sockets["c"]!.isConnected)
        #expect(fixture.sinks["c"]!.packets == [.message("1")])
        #expect(try await fixture.adapter.socketCount() == 2)
        #expect(try await fixture.adapter.serverCount() == 1)
    }
}

/// A recovered socket after its replay: an event the replay sent is not sent again when its
/// publication reaches the node late (it is logged and published in one step, but the log can
/// be read before the publication arrives); later events go through.
@Suite struct ReplayBoundaryTests {
    @Test func aLateLiveCopyOfAReplayedEventIsSkipped() {
        let loop = EmbeddedEventLoop()
        let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
        let sink = SinkTransport()
        let engine = EngineSocket(
            id: "e", eventLoop: loop, handshake: .init(), configuration: .init(), transport: sink
        ) { _ in }
        let recovery = MemoryRecovery(limits: RecoveryLimits())
        let session = SessionState(pid: "p", owner: "o", recovery: recovery, writes: SessionWrites(eventLoop: loop, recovery: recovery))
        let socket = SocketIOSocket(id: "s", engine: engine, registry: RoomRegistry(), metrics: metrics, session: session)
        func message(_ text: String) -> PreparedMessage {
            PreparedMessage(message: ByteBuffer(string: text), attachments: [])
        }
        socket.beginReplay()
        _ = socket.write(message("held-7"), offset: RecoveryOffset(milliseconds: 7, sequence: 0))
        socket.endReplay(after: RecoveryOffset(milliseconds: 5, sequence: 0))
        #expect(sink.frames.count == 1)  // the held one, after the replay's 5
        _ = socket.write(message("late-6"), offset: RecoveryOffset(milliseconds: 6, sequence: 0))
        _ = socket.write(message("late-7"), offset: RecoveryOffset(milliseconds: 7, sequence: 0))
        #expect(sink.frames.count == 1)
        _ = socket.write(message("live-8"), offset: RecoveryOffset(milliseconds: 8, sequence: 0))
        _ = socket.write(message("no offset"))
        #expect(sink.frames.count == 3)
        #expect(session.replayedThrough == nil)
    }
}

/// The per-loop room filter: counted on join and leave, so a broadcast wakes only the loops that
/// may hold one of its rooms, and never skips one that does.
@Suite struct RoomPresenceTests {
    @Test func joinsAndLeavesAreCounted() async throws {
        let fixture = AdapterFixture()
        let presence = fixture.registry.presence
        func present(_ room: String) -> Bool { presence.mayHaveAny(of: [RoomPresence.slot(of: room)]) }
        let a = fixture.socket("a", rooms: ["guest:g"])
        let b = fixture.socket("b", rooms: ["guest:g", "restaurant:r"])
        #expect(present("guest:g") && present("restaurant:r") && present("a") && present("b"))
        b.leave("restaurant:r")
        #expect(present("guest:g"))
        a.leave("guest:g")
        #expect(present("guest:g"), "b is still in it")
        fixture.registry.remove(b)
        fixture.registry.remove(a)
        // Each room counted in a slot of its own may still share it with another room; all of
        // these are gone, so each slot is back to what the others left there: nothing.
        #expect(!present("guest:g") && !present("restaurant:r") && !present("a") && !present("b"))
    }

    /// What a node asks of a broadcast from another node before decoding it further.
    @Test func mayReachOnlyRoomsWithMembers() async throws {
        let fixture = AdapterFixture()
        #expect(fixture.adapter.mayReach(BroadcastOptions()), "everyone")
        #expect(!fixture.adapter.mayReach(BroadcastOptions(rooms: ["guest:g"])))
        let socket = fixture.socket("a", rooms: ["guest:g"])
        #expect(fixture.adapter.mayReach(BroadcastOptions(rooms: ["guest:h", "guest:g"])))
        #expect(fixture.adapter.mayReach(BroadcastOptions(rooms: ["a"])), "a socket's id is its room")
        socket.leave("guest:g")
        // Unless the two names share a slot (one chance in 65,536 per process): a false positive.
        if RoomPresence.slot(of: "guest:g") != RoomPresence.slot(of: "a") {
            #expect(!fixture.adapter.mayReach(BroadcastOptions(rooms: ["guest:g"])))
        }
    }

    @Test func aSaturatedSlotStaysPresent() {
        let presence = RoomPresence()
        for _ in 0..<300 { presence.appeared("room") }
        for _ in 0..<300 { presence.vanished("room") }
        #expect(presence.mayHaveAny(of: [RoomPresence.slot(of: "room")]), "255 may stand for more rooms than it counts")
        let other = RoomPresence()
        other.appeared("x")
        other.vanished("x")
        other.vanished("x")
        #expect(!other.mayHaveAny(of: [RoomPresence.slot(of: "x")]))
        other.appeared("x")
        #expect(other.mayHaveAny(of: [RoomPresence.slot(of: "x")]), "no wrap below zero")
    }

    /// Over two loops, a broadcast to a room reaches its members on either loop, and a loop
    /// without any is not woken: its drain never runs.
    @Test func onlyLoopsWithMembersAreWoken() async throws {
        let group = MultiThreadedEventLoopGroupStandIn()
        let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
        let adapter = LocalAdapter(group: group, metrics: metrics, logger: Logger(label: "test"))
        let (first, second) = (group.loops[0], group.loops[1])
        let sink = SinkTransport()
        let engine = EngineSocket(id: "e", eventLoop: first, handshake: .init(), configuration: .init(), transport: sink) { _ in }
        let socket = SocketIOSocket(id: "s", engine: engine, registry: adapter.registry(on: first), metrics: metrics)
        adapter.registry(on: first).add(socket)
        socket.join("guest:g")
        func woken(_ shard: Int) -> Bool { adapter.shards[shard].waiting.withLockedValue { $0.drainScheduled } }
        try await adapter.broadcast(.event("points_added", [["amount": 1]]), options: BroadcastOptions(rooms: ["guest:g"]))
        #expect(woken(0) && !woken(1), "no member on the second loop")
        first.run()
        #expect(sink.frames.count == 1)
        try await adapter.broadcast(.event("points_added", [["amount": 2]]), options: BroadcastOptions())
        #expect(woken(0) && woken(1), "to everyone: every loop")
        second.run()
        first.run()
        #expect(sink.frames.count == 2)
    }
}

/// Two embedded loops as one group, so a test can see which of them a broadcast woke.
final class MultiThreadedEventLoopGroupStandIn: EventLoopGroup, @unchecked Sendable {
    let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]

    func next() -> any EventLoop { loops[0] }

    func makeIterator() -> EventLoopIterator { EventLoopIterator(loops) }

    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        callback(nil)
    }
}
