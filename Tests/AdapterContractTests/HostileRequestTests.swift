import MessagePack
import NIOCore
import RedisAdapter
import SocketIO
import Testing
import Vocabulary

/// Requests and broadcasts of the wrong shape, from anyone who can publish on the Redis: they
/// must touch nothing. Node's adapter does `new Set(opts.rooms)`: absent rooms mean everyone,
/// but a field of the wrong type (or rooms that are not strings) matches nobody.
/// The node's sockets: `a` in r1, `b` in r2, `c` in r1 and r2, `d` in r3, `e` in none.
@Suite struct HostileRequestTests {
    /// `rooms` values that are not an array of room names. `"r1"` is a real room's name: read as
    /// one room it would select `a` and `c`.
    static let wrongRooms = [#""r1""#, "5", #"{"r1":true}"#, "true", "[null]", #"[{"r1":true}]"#]

    /// A fetch (or SOCKETS) that selects nobody is answered with no sockets, or not at all.
    func expectNobody(_ fixture: RawPeerFixture, _ requestId: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for response in fixture.peer.responses(to: requestId) {
            #expect(response["sockets"] == .array([]), "\(requestId) answered \(response)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: wrongRooms)
    func optsRoomsOfTheWrongTypeSelectNobody(_ rooms: String) async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            let opts = #""opts":{"rooms":\#(rooms),"except":[]}"#
            try await fixture.peer.request(#"{"uid":"xyz","type":2,\#(opts),"rooms":["hacked"]}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":3,\#(opts),"rooms":["r1","r2","r3"]}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":4,\#(opts),"close":true}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":5,"requestId":"h5",\#(opts)}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":0,"requestId":"h0","rooms":\#(rooms)}"#)
            try await fixture.peer.fence()
            #expect(try await fixture.cluster.snapshot() == fixture.initialState)
            expectNobody(fixture, "h5")
            expectNobody(fixture, "h0")
        }
    }

    /// The rooms to join or leave must be an array too.
    @Test(arguments: [#""hacked""#, "5", #"{"hacked":true}"#, #""r1""#])
    func joinAndLeaveRoomsOfTheWrongTypeChangeNothing(_ rooms: String) async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":2,"opts":{"rooms":[],"except":[]},"rooms":\#(rooms)}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":3,"opts":{"rooms":[],"except":[]},"rooms":\#(rooms)}"#)
            try await fixture.peer.fence()
            #expect(try await fixture.cluster.snapshot() == fixture.initialState)
        }
    }

    /// A type that is not one of the integers 0...9 is no request at all. The body would act on
    /// every socket under any type it could be mistaken for: join, leave, disconnect, answer.
    @Test(arguments: ["1e20", "-1e20", "-1", "2.5", "4.000001", #""5""#, #""2""#, "null", "true", "[2]"])
    func typesThatAreNoRequestTypeAreIgnored(_ type: String) async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(
                #"{"uid":"xyz","type":\#(type),"requestId":"ht","opts":{"rooms":[],"except":[]},"rooms":["hacked","r1"],"close":true,"data":["evt"]}"#
            )
            try await fixture.peer.fence()
            #expect(fixture.peer.responses(to: "ht").isEmpty)
            #expect(try await fixture.cluster.snapshot() == fixture.initialState)
        }
    }

    static let wrongBroadcastRooms: [MessagePackValue] = [
        .string("r1"), .uint(5), .map(["r1": .bool(true)]), .bool(true), .array([.nil]), .array([.map(["r1": .bool(true)])]),
    ]

    /// A broadcast whose rooms are not an array of names reaches no one.
    @Test(arguments: wrongBroadcastRooms)
    func broadcastsToRoomsOfTheWrongTypeReachNoOne(_ rooms: MessagePackValue) async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.broadcast(Self.broadcast("hostile", rooms: rooms))
            try await fixture.peer.broadcast(Self.broadcast("hostile", rooms: rooms), on: fixture.peer.channels.room("r1"))
            // Broadcasts are delivered in the order they were published: once the fence is in,
            // whatever came before it has been delivered.
            try await fixture.peer.broadcast(Self.broadcast("fence", rooms: .array([])))
            try await fixture.cluster.expect(\.received, fixture.cluster.onEveryNode(
                AdapterContractTests.sockets.mapValues { _ in ["fence"] }
            ))
        }
    }

    /// `[uid, {type: 2, data: [event], nsp: "/"}, {rooms, except: [], flags: {}}]`, as a Node peer writes it.
    static func broadcast(_ event: String, rooms: MessagePackValue) -> ByteBuffer {
        MessagePackValue.array([
            .string("evilUid"),
            .map([.init(.string("type"), .uint(2)), .init(.string("data"), .array([.string(event)])),
                  .init(.string("nsp"), .string("/"))]),
            .map(["rooms": rooms, "except": .array([]), "flags": .map([])]),
        ]).encoded
    }
}
