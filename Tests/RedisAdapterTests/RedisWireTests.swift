import MessagePack
import NIOCore
import SocketIO
import Testing
import Vocabulary

@testable import RedisAdapter

/// The wire format of `@socket.io/redis-adapter`, message by message.
@Suite struct RedisWireTests {
    @Test func channelNames() {
        let channels = RedisChannels()
        #expect(channels.broadcast == "socket.io#/#")
        #expect(channels.room("guest:g1") == "socket.io#/#guest:g1#")
        #expect(channels.request == "socket.io-request#/#")
        #expect(channels.response == "socket.io-response#/#")
        #expect(channels.response(for: "abc123") == "socket.io-response#/#abc123#")
        #expect(channels.channel(forRooms: ["admin"]) == "socket.io#/#admin#")
        #expect(channels.channel(forRooms: ["a", "b"]) == "socket.io#/#")
        #expect(channels.channel(forRooms: []) == "socket.io#/#")
    }

    /// `[uid, {type, data, nsp}, {rooms, except, flags}]`, as the adapter writes it.
    @Test func broadcastLayout() throws {
        let packet = SocketIOPacket.event("points_added", [["amount": 5, "ratio": .number(0.5)]])
        let options = BroadcastOptions(rooms: ["guest:g1", "restaurant:r1"], except: ["x"], flags: BroadcastFlags(compress: true))
        let bytes = RedisBroadcast(uid: "node01", packet: packet, options: options).encoded()
        let value = try MessagePackValue(decoding: bytes)
        #expect(value == .array([
            .string("node01"),
            .map([
                .init(.string("type"), .uint(2)),
                .init(.string("data"), .array([.string("points_added"), .map(["amount": .uint(5), "ratio": .float(0.5)])])),
                .init(.string("nsp"), .string("/")),
            ]),
            .map(["rooms": .array([.string("guest:g1"), .string("restaurant:r1")]), "except": .array([.string("x")]),
                  "flags": .map(["compress": .bool(true)])]),
        ]))
        let decoded = try #require(RedisBroadcast(decoding: bytes))
        #expect(decoded == RedisBroadcast(uid: "node01", packet: packet, options: options))
    }

    /// The emitter's order: `{rooms, flags, except}`, uid `emitter`.
    @Test func emitterLayout() throws {
        let bytes = RedisBroadcast(uid: RedisBroadcast.emitterUID, packet: .event("e", []), options: BroadcastOptions(rooms: ["admin"]))
            .encoded(asEmitter: true)
        guard case .array(let items) = try MessagePackValue(decoding: bytes), case .map(let opts) = items[2] else {
            Issue.record("not an array with an options map")
            return
        }
        #expect(items[0] == .string("emitter"))
        #expect(opts.map(\.key) == [.string("rooms"), .string("flags"), .string("except")])
    }

    /// What Node writes and Herald must read: `undefined` as ext 0, numeric rooms, extra flags.
    @Test func readsNodeQuirks() throws {
        let bytes = MessagePackValue.array([
            .string("nodeUid"),
            .map([.init(.string("type"), .uint(2)), .init(.string("data"), .array([.string("e"), .ext(type: 0, data: [0])])),
                  .init(.string("nsp"), .string("/"))]),
            .map(["rooms": .array([.uint(42)]), "except": .array([]),
                  "flags": .map(["volatile": .bool(true), "timeout": .uint(1000)])]),
        ]).encoded
        let broadcast = try #require(RedisBroadcast(decoding: bytes))
        #expect(broadcast.packet.data == ["e", .null])
        #expect(broadcast.options.rooms == ["42"])
        #expect(broadcast.options.flags.volatile)
    }

    @Test(arguments: [
        MessagePackValue.array([]),
        .array([.string("u"), .map([.init(.string("type"), .uint(3)), .init(.string("data"), .array([]))]), .map([])]),
        .array([.string("u"), .map([.init(.string("type"), .uint(2)), .init(.string("data"), .array([.uint(1)]))]), .map([])]),
        .string("nonsense"),
    ])
    func refusesWhatItCannotDeliver(_ value: MessagePackValue) {
        #expect(RedisBroadcast(decoding: value.encoded) == nil)
    }

    /// A node reads a broadcast's addressing first; its data is converted only where it is
    /// delivered, and an event that names no event is refused at every node.
    @Test func theEnvelopeAddressesBeforeTheDataIsRead() throws {
        let bytes = MessagePackValue.array([
            .string("nodeUid"),
            .map([.init(.string("type"), .uint(2)), .init(.string("data"), .array([.string("e"), .map(["n": .uint(1)])])),
                  .init(.string("nsp"), .string("/"))]),
            .map(["rooms": .array([.string("guest:g")]), "except": .array([]), "offset": .string("1700000000000-3")]),
        ]).encoded
        let envelope = try #require(RedisBroadcast.Envelope(decoding: bytes))
        #expect(envelope.uid == "nodeUid" && envelope.namespace == "/" && envelope.options.rooms == ["guest:g"])
        #expect(envelope.offset?.description == "1700000000000-3")
        #expect(envelope.broadcast() == RedisBroadcast(decoding: bytes))
        let noName = MessagePackValue.array([
            .string("u"), .map([.init(.string("type"), .uint(2)), .init(.string("data"), .array([.uint(1)]))]), .map([:]),
        ]).encoded
        #expect(RedisBroadcast.Envelope(decoding: noName) == nil)
        // Data that is no MessagePack past its name is found where it would be delivered.
        var badData = MessagePackValue.array([.string("e"), .string("ok")]).encoded
        badData.moveWriterIndex(to: badData.writerIndex - 2)
        badData.writeBytes([0xC3, 0x28])  // "ok" becomes two bytes that are not UTF-8
        var message = ByteBuffer(bytes: [0x93, 0xA1, 0x75, 0x82, 0xA4] + Array("type".utf8) + [0x02, 0xA4] + Array("data".utf8))
        message.writeImmutableBuffer(badData)
        message.writeImmutableBuffer(MessagePackValue.map(["rooms": .array([.string("guest:g")])]).encoded)
        let addressed = try #require(RedisBroadcast.Envelope(decoding: message))
        #expect(addressed.options.rooms == ["guest:g"])
        #expect(addressed.broadcast() == nil && RedisBroadcast(decoding: message) == nil)
    }

    @Test func requestsRoundTrip() throws {
        let requests = [
            ClusterRequest(type: .remoteFetch, uid: "abc", requestId: "r1", options: BroadcastOptions(rooms: ["restaurant:r1"])),
            ClusterRequest(type: .allRooms, uid: "abc", requestId: "r2"),
            ClusterRequest(type: .remoteJoin, uid: "abc", options: BroadcastOptions(rooms: ["a"]), rooms: ["b"]),
            ClusterRequest(type: .remoteLeave, uid: "abc", options: BroadcastOptions(except: ["a"]), rooms: ["b"]),
            ClusterRequest(type: .remoteDisconnect, uid: "abc", options: BroadcastOptions(), close: true),
            ClusterRequest(type: .serverSideEmit, uid: "abc", data: ["hello", 1]),
        ]
        for request in requests {
            let text = request.json.jsonString
            #expect(ClusterRequest(json: try #require(JSONValue(parsing: text))) == request, "\(text)")
        }
        // The emitter's requests have no uid.
        let fromEmitter = try #require(JSONValue(parsing: #"{"type":2,"opts":{"rooms":["x"],"except":[]},"rooms":["y"]}"#))
        #expect(ClusterRequest(json: fromEmitter)?.uid == nil)
        #expect(ClusterRequest(json: ["type": 99]) == nil)
        #expect(ClusterRequest(json: ["nope": 1]) == nil)
    }

    @Test func fetchedSocketsRoundTrip() {
        let socket = SocketDetails(id: "s1", rooms: ["s1", "guest:g"], data: ["userId": "g"])
        #expect(SocketDetails(json: socket.json) == socket)
    }
}

/// The offset option (SPEC section 4.1) on the wire.
@Suite struct RecoveryOffsetWireTests {
    @Test func theScriptAppendsTheOffsetToTheMessageEncodedWithoutIt() throws {
        let offset = try #require(RecoveryOffset("1764597600123-7"))
        let broadcast = RedisBroadcast(
            uid: RedisBroadcast.emitterUID, packet: .event("points_added", [["amount": 3]]),
            options: BroadcastOptions(rooms: ["guest:g"]), offset: offset
        )
        var awaiting = broadcast.encodedAwaitingOffset(asEmitter: true)
        // What the Lua script does: a fixstr of the offset's text.
        awaiting.writeInteger(UInt8(0xA0 + offset.description.utf8.count))
        awaiting.writeString(offset.description)
        #expect(awaiting == broadcast.encoded(asEmitter: true))
        let decoded = try #require(RedisBroadcast(decoding: awaiting))
        #expect(decoded.offset == offset && decoded.packet == broadcast.packet)
    }

    /// An offset from a clock far ahead of this node's is not taken (it would hide every real
    /// event to come from recovery); a Redis a little ahead is.
    @Test func offsetsFarInTheFutureAreNotBelieved() throws {
        let now: UInt64 = 1_764_597_600_000
        #expect(IncomingBroadcasts.isPlausible(RecoveryOffset(milliseconds: now - 5, sequence: 3), now: now))
        #expect(IncomingBroadcasts.isPlausible(RecoveryOffset(milliseconds: now + 30_000, sequence: 0), now: now))
        #expect(!IncomingBroadcasts.isPlausible(RecoveryOffset(milliseconds: now + 3_600_000, sequence: 0), now: now))
        #expect(!IncomingBroadcasts.isPlausible(try #require(RecoveryOffset("9999999999999999999-1")), now: now))
        #expect(IncomingBroadcasts.isPlausible(RecoveryOffset(milliseconds: 0, sequence: 0), now: UInt64.max))
    }

    @Test(arguments: ["", "12", "-1", "1-", "a-1", "1-2-3", "１-2", "99999999999999999999-1"])
    func offsetsThatAreNotHeraldsAreNone(_ text: String) {
        #expect(RecoveryOffset(text) == nil)
    }

    @Test func offsetsOrderByClockThenCount() throws {
        let a = try #require(RecoveryOffset("5-9")), b = try #require(RecoveryOffset("6-0"))
        #expect(a < b && a.next(now: 5) == RecoveryOffset(milliseconds: 5, sequence: 10) && a.next(now: 7) == RecoveryOffset("7-0"))
        // A clock that goes back keeps counting on the last millisecond.
        #expect(b.next(now: 1) == RecoveryOffset("6-1"))
    }
}
