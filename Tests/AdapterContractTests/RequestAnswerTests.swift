import RedisAdapter
import SocketIO
import Testing
import Vocabulary

/// How a Redis adapter node answers requests published in the Node adapter's JSON
/// (docs/redis-protocol.md), as `@socket.io/redis-adapter` answers them.
/// The node's sockets: `a` in r1, `b` in r2, `c` in r1 and r2, `d` in r3, `e` in none.
@Suite struct RequestAnswerTests {
    func ids(_ response: JSONValue?) -> Set<String> {
        guard case .array(let items)? = response?["sockets"] else { return [] }
        return Set(items.compactMap { $0.stringValue ?? $0["id"]?.stringValue })
    }

    @Test func socketsAnswersTheIDsInTheRooms() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":0,"requestId":"s1","rooms":["r1"]}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":0,"requestId":"s2","rooms":[]}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":0,"requestId":"s3"}"#)
            #expect(ids(await fixture.peer.response(to: "s1")) == [fixture.id("a"), fixture.id("c")])
            let everyone = Set(["a", "b", "c", "d", "e"].map(fixture.id))
            #expect(ids(await fixture.peer.response(to: "s2")) == everyone)
            #expect(ids(await fixture.peer.response(to: "s3")) == everyone, "absent rooms mean everyone")
        }
    }

    @Test func allRoomsAnswersEveryRoomWithMembers() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":1,"requestId":"ar1"}"#)
            let response = await fixture.peer.response(to: "ar1")
            guard case .array(let rooms)? = response?["rooms"] else {
                Issue.record("no rooms in \(String(describing: response))")
                return
            }
            #expect(Set(rooms.compactMap(\.stringValue)).isSuperset(of: ["r1", "r2", "r3"]))
        }
    }

    @Test func remoteFetchAnswersSocketDetails() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":5,"requestId":"f1","opts":{"rooms":["r1"],"except":["r2"]}}"#)
            let response = try #require(await fixture.peer.response(to: "f1"))
            guard case .array(let sockets)? = response["sockets"], sockets.count == 1 else {
                Issue.record("not one socket: \(response)")
                return
            }
            let socket = sockets[0]
            #expect(socket["id"] == .string(fixture.id("a")))
            #expect(socket["rooms"].map { Set(ClusterRequestStrings.of($0)) } == [fixture.id("a"), "r1"])
            #expect(socket["handshake"]?.isObject == true)
            #expect(socket["data"] == .null)
            #expect(fixture.peer.responses(to: "f1").count == 1)

            // Absent rooms and except select everyone.
            try await fixture.peer.request(#"{"uid":"xyz","type":5,"requestId":"f2","opts":{}}"#)
            #expect(ids(await fixture.peer.response(to: "f2")).count == 5)
        }
    }

    @Test func remoteJoinAndLeave() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":2,"opts":{"rooms":["r1"],"except":["r2"]},"rooms":["vip","vip2"]}"#)
            // The emitter's requests carry no uid.
            try await fixture.peer.request(#"{"type":3,"opts":{"rooms":["r2"],"except":[]},"rooms":["r1"]}"#)
            try await fixture.cluster.expect(\.rooms, fixture.cluster.onEveryNode(
                AdapterContractTests.initialRooms.merging(["a": ["r1", "vip", "vip2"], "c": ["r2"]]) { $1 }
            ))
        }
    }

    @Test func remoteDisconnectWithAndWithoutClosing() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":4,"opts":{"rooms":["r1"],"except":["r2"]},"close":false}"#)
            try await fixture.peer.request(#"{"uid":"xyz","type":4,"opts":{"rooms":["r3"],"except":[]},"close":true}"#)
            var expected = fixture.initialState
            expected[fixture.id("a")] = SocketState(rooms: [], connected: false, closed: false, received: ["disconnect"])
            expected[fixture.id("d")] = SocketState(rooms: [], connected: false, closed: true, received: ["disconnect"])
            try await fixture.cluster.expect({ $0 }, expected)
        }
    }

    /// Herald has no server-side handlers: an emit that waits for acks gets one answer, in the
    /// shape of the Node adapter's acknowledgement; one that does not wait gets none.
    @Test func serverSideEmit() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            try await fixture.peer.request(#"{"uid":"xyz","type":6,"requestId":"e1","data":["hello",1]}"#)
            let response = try #require(await fixture.peer.response(to: "e1"))
            #expect(response["type"] == .number(6))
            try await fixture.peer.request(#"{"uid":"xyz","type":6,"data":["no-ack"]}"#)
            try await fixture.peer.fence()
            #expect(fixture.peer.responses(to: "e1").count == 1)
            let state = try await fixture.cluster.snapshot()
            #expect(state == fixture.initialState)
        }
    }

    /// A node ignores requests carrying its own uid (they came back to it through Redis).
    @Test func ownRequestsAreIgnored() async throws {
        try await RawPeerFixture.with { (fixture: RawPeerFixture) async throws in
            let uid = try #require(fixture.node.adapter as? RedisAdapter).uid
            try await fixture.peer.request(#"{"uid":"\#(uid)","type":2,"opts":{"rooms":[],"except":[]},"rooms":["echo"]}"#)
            try await fixture.peer.request(#"{"uid":"\#(uid)","type":4,"opts":{"rooms":[],"except":[]},"close":true}"#)
            try await fixture.peer.request(#"{"uid":"\#(uid)","type":5,"requestId":"own","opts":{"rooms":[],"except":[]}}"#)
            try await fixture.peer.fence()
            #expect(fixture.peer.responses(to: "own").isEmpty)
            #expect(try await fixture.cluster.snapshot() == fixture.initialState)
        }
    }
}

/// The strings of a JSON array (rooms as the responses carry them).
enum ClusterRequestStrings {
    static func of(_ value: JSONValue) -> [String] {
        guard case .array(let items) = value else { return [] }
        return items.compactMap(\.stringValue)
    }
}
