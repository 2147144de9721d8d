import SocketIO
import Testing
import Vocabulary

/// The `Adapter` seam, one suite run on every implementation: every call is made on the first
/// node and must act on the sockets of every node alike (`local` flag: on the first node only).
///
/// Every node holds the same sockets: `a` in r1, `b` in r2, `c` in r1 and r2, `d` in r3, `e` in none.
@Suite struct AdapterContractTests {
    static let sockets: [String: [String]] = ["a": ["r1"], "b": ["r2"], "c": ["r1", "r2"], "d": ["r3"], "e": []]
    static let initialRooms: [String: Set<String>] = ["a": ["r1"], "b": ["r2"], "c": ["r1", "r2"], "d": ["r3"], "e": []]

    func prepared(_ implementation: AdapterImplementation, _ body: (TestCluster, any Adapter) async throws -> Void) async throws {
        try await implementation.withCluster { (cluster: TestCluster) async throws in
            try await cluster.addSocketsOnEveryNode(Self.sockets)
            try await body(cluster, cluster.first.adapter)
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func roomsReachTheirMembersOncePerSocket(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.broadcast(.event("to-r1", []), options: BroadcastOptions(rooms: ["r1"]))
            // `c` is in both rooms: one copy.
            try await adapter.broadcast(.event("to-r1-r2", []), options: BroadcastOptions(rooms: ["r1", "r2"]))
            try await adapter.broadcast([
                Broadcast(.event("batch-1", []), options: BroadcastOptions(rooms: ["r3"])),
                Broadcast(.event("batch-2", []), options: BroadcastOptions(rooms: ["r3", "r2"])),
            ])
            try await adapter.broadcast(.event("nobody", []), options: BroadcastOptions(rooms: ["no-such-room"]))
            try await cluster.expect(\.received, cluster.onEveryNode([
                "a": ["to-r1", "to-r1-r2"], "b": ["to-r1-r2", "batch-2"], "c": ["to-r1", "to-r1-r2", "batch-2"],
                "d": ["batch-1", "batch-2"], "e": [],
            ]))
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func noRoomsMeansEveryone(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.broadcast(.event("all", [["n": 1]]), options: BroadcastOptions())
            try await cluster.expect(\.received, cluster.onEveryNode(Self.sockets.mapValues { _ in ["all"] }))
        }
    }

    /// `except` leaves out the members of its rooms, a socket's id being a room of its own.
    @Test(arguments: AdapterImplementation.allCases)
    func exceptLeavesOutItsMembers(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.broadcast(.event("not-r2", []), options: BroadcastOptions(except: ["r2"]))
            try await adapter.broadcast(.event("r1-not-r2", []), options: BroadcastOptions(rooms: ["r1"], except: ["r2"]))
            let firstA = cluster.first.id("a")
            try await adapter.broadcast(.event("not-first-a", []), options: BroadcastOptions(except: [firstA]))
            try await adapter.broadcast(.event("first-a", []), options: BroadcastOptions(rooms: [firstA]))
            var expected = cluster.onEveryNode([
                "a": ["not-r2", "r1-not-r2", "not-first-a"], "b": ["not-first-a"], "c": ["not-first-a"],
                "d": ["not-r2", "not-first-a"], "e": ["not-r2", "not-first-a"],
            ])
            expected[firstA] = ["not-r2", "r1-not-r2", "first-a"]
            try await cluster.expect(\.received, expected)
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func addSocketsJoinsTheSelected(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.addSockets(BroadcastOptions(rooms: ["r1"], except: ["r2"]), rooms: ["vip", "vip2"])
            try await adapter.addSockets(BroadcastOptions(rooms: [cluster.first.id("e")]), rooms: ["solo"])
            var expected = cluster.onEveryNode(Self.initialRooms.merging(["a": ["r1", "vip", "vip2"]]) { $1 })
            expected[cluster.first.id("e")] = ["solo"]
            try await cluster.expect(\.rooms, expected)
            // Joined rooms are real rooms: a broadcast to one reaches them.
            try await adapter.broadcast(.event("to-vip", []), options: BroadcastOptions(rooms: ["vip"]))
            try await cluster.expect(\.received, cluster.onEveryNode(["a": ["to-vip"], "b": [], "c": [], "d": [], "e": []]))
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func delSocketsMakesTheSelectedLeave(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.delSockets(BroadcastOptions(rooms: ["r2"]), rooms: ["r1"])
            try await adapter.delSockets(BroadcastOptions(except: ["r1"]), rooms: ["r3", "never-joined"])
            try await cluster.expect(\.rooms, cluster.onEveryNode(Self.initialRooms.merging(["c": ["r2"], "d": []]) { $1 }))
            try await adapter.broadcast(.event("to-r1", []), options: BroadcastOptions(rooms: ["r1", "r3"]))
            try await cluster.expect(\.received, cluster.onEveryNode(["a": ["to-r1"], "b": [], "c": [], "d": [], "e": []]))
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func disconnectSocketsWithAndWithoutClosing(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            try await adapter.disconnectSockets(BroadcastOptions(rooms: ["r1"], except: ["r2"]), close: false)
            try await adapter.disconnectSockets(BroadcastOptions(rooms: ["r3"]), close: true)
            let kept = SocketState(rooms: [], connected: true, closed: false, received: [])
            try await cluster.expect({ $0 }, cluster.onEveryNode([
                "a": SocketState(rooms: [], connected: false, closed: false, received: ["disconnect"]),
                "b": SocketState(rooms: ["r2"], connected: true, closed: false, received: []),
                "c": SocketState(rooms: ["r1", "r2"], connected: true, closed: false, received: []),
                "d": SocketState(rooms: [], connected: false, closed: true, received: ["disconnect"]),
                "e": kept,
            ]))
            // A disconnected socket is in no room any more, not even its own.
            try await adapter.broadcast(.event("after", []), options: BroadcastOptions(rooms: ["r1", cluster.first.id("a")]))
            try await cluster.expect(\.received, cluster.onEveryNode([
                "a": ["disconnect"], "b": [], "c": ["after"], "d": ["disconnect"], "e": [],
            ]))
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func fetchSocketsDescribesTheSelected(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            func fetched(_ options: BroadcastOptions) async throws -> [String: Set<String>] {
                let details = try await adapter.fetchSockets(options)
                let byID = Dictionary(details.map { ($0.id, $0.rooms) }) { first, _ in first }
                #expect(byID.count == details.count, "a socket reported twice: \(details.map(\.id).sorted())")
                #expect(details.allSatisfy { $0.data == .null })
                return byID
            }
            func rooms(_ localIDs: [String]) -> [String: Set<String>] {
                var result: [String: Set<String>] = [:]
                for node in cluster.nodes {
                    for localID in localIDs { result[node.id(localID)] = Self.initialRooms[localID]!.union([node.id(localID)]) }
                }
                return result
            }
            #expect(try await fetched(BroadcastOptions()) == rooms(["a", "b", "c", "d", "e"]))
            #expect(try await fetched(BroadcastOptions(rooms: ["r1", "r2"])) == rooms(["a", "b", "c"]))
            #expect(try await fetched(BroadcastOptions(rooms: ["r1"], except: ["r2"])) == rooms(["a"]))
            #expect(try await fetched(BroadcastOptions(except: ["r1", "r2", "r3"])) == rooms(["e"]))
            #expect(try await fetched(BroadcastOptions(rooms: ["no-such-room"])) == [:])
        }
    }

    @Test(arguments: AdapterImplementation.allCases)
    func serverCountCountsEveryNode(_ implementation: AdapterImplementation) async throws {
        try await implementation.withCluster { (cluster: TestCluster) async throws in
            for node in cluster.nodes {
                #expect(try await node.adapter.serverCount() == cluster.nodes.count)
            }
        }
    }

    /// With the `local` flag every call acts on this node's sockets only.
    @Test(arguments: AdapterImplementation.allCases)
    func localFlagKeepsEveryCallOnThisNode(_ implementation: AdapterImplementation) async throws {
        try await prepared(implementation) { (cluster: TestCluster, adapter: any Adapter) async throws in
            let local = BroadcastFlags(local: true)
            try await adapter.broadcast(.event("here", []), options: BroadcastOptions(rooms: ["r1"], flags: local))
            try await adapter.addSockets(BroadcastOptions(rooms: ["r2"], flags: local), rooms: ["joined"])
            try await adapter.delSockets(BroadcastOptions(rooms: ["r3"], flags: local), rooms: ["r3"])
            try await adapter.disconnectSockets(BroadcastOptions(rooms: ["r1"], except: ["r2"], flags: local), close: true)
            let details = try await adapter.fetchSockets(BroadcastOptions(rooms: ["r2"], flags: local))
            #expect(Set(details.map(\.id)) == [cluster.first.id("b"), cluster.first.id("c")])
            #expect(details.count == 2)

            var expected = cluster.on(cluster.others, Self.initialRooms.mapValues {
                SocketState(rooms: $0, connected: true, closed: false, received: [])
            })
            expected.merge(cluster.on(cluster.nodes.prefix(1), [
                "a": SocketState(rooms: [], connected: false, closed: true, received: ["here", "disconnect"]),
                "b": SocketState(rooms: ["r2", "joined"], connected: true, closed: false, received: []),
                "c": SocketState(rooms: ["r1", "r2", "joined"], connected: true, closed: false, received: ["here"]),
                "d": SocketState(rooms: [], connected: true, closed: false, received: []),
                "e": SocketState(rooms: [], connected: true, closed: false, received: []),
            ])) { $1 }
            try await cluster.expect({ $0 }, expected)
        }
    }
}
