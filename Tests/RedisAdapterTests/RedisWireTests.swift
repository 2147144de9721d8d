import MessagePack
import NIOCore
import SocketIO
import Testing

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
