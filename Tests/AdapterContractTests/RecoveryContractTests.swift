import HeraldTesting
import Logging
import NIOCore
import NIOPosix
import RedisAdapter
import RedisClient
import SocketIO
import Testing
import Vocabulary

/// The implementations of the connection recovery seam (SPEC section 4.1).
enum RecoveryImplementation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `herald serve`'s memory store, which also gives the offsets.
    case memory
    /// The cluster's store on a throwaway redis-server; its publishing script gives the offsets.
    case redis

    var testDescription: String { rawValue }

    /// A store and the way events are published through it.
    struct Store: Sendable {
        let recovery: any ConnectionRecovery
        /// Publishes one event to `rooms` with its data `[name, n]`; returns its offset.
        let publish: @Sendable (_ n: Int, _ rooms: Set<String>, _ eventId: String?) async throws -> RecoveryOffset?
    }

    func withStore(_ limits: RecoveryLimits = RecoveryLimits(), _ body: (Store) async throws -> Void) async throws {
        switch self {
        case .memory:
            let recovery = MemoryRecovery(limits: limits)
            try await body(Store(recovery: recovery) { n, rooms, _ in
                var given: RecoveryOffset?
                recovery.record(.event("points_added", [.number(Double(n))]), rooms: rooms) { given = $0 }
                return given
            })
        case .redis:
            try await RedisServer.withClient { client in
                let recovery = RedisRecovery(client: client, limits: limits)
                try await body(Store(recovery: recovery) { n, rooms, eventId in
                    let broadcast = RedisBroadcast(
                        uid: RedisBroadcast.emitterUID, packet: .event("points_added", [.number(Double(n))]),
                        options: BroadcastOptions(rooms: rooms)
                    )
                    let outgoing = RedisRecovery.Outgoing(broadcast: broadcast, channel: "socket.io#/#", asEmitter: true, eventId: eventId)
                    return try await recovery.publish([outgoing]).first ?? nil
                })
            }
        }
    }
}

@Suite struct RecoveryContractTests {
    func session(_ pid: String, rooms: [String: RecoveryOffset] = ["guest:g": .zero]) -> RecoverableSession {
        RecoverableSession(pid: pid, sid: "sid-\(pid)", owner: "g", rooms: rooms)
    }

    func numbers(_ events: [LoggedEvent]?) -> [Int]? {
        events?.map { event in
            guard case .array(let items)? = JSONValue(parsing: event.data), case .number(let n)? = items.last else { return -1 }
            return Int(n)
        }
    }

    @Test(arguments: RecoveryImplementation.allCases)
    func sessionsAreSavedRestoredAndDiscarded(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore { store in
            let recovery = store.recovery
            #expect(try await recovery.restore(pid: "nobody") == nil)
            try await recovery.save([session("p1"), session("p2")])
            #expect(try await recovery.restore(pid: "p1") == session("p1"))
            // Saved again with other rooms: the newest save holds.
            try await recovery.save([session("p1", rooms: ["guest:g": .zero, "restaurant:r": RecoveryOffset(milliseconds: 5, sequence: 1)])])
            #expect(try await recovery.restore(pid: "p1")?.rooms.count == 2)
            // A lost connection leaves it for the window; a namespace disconnect ends it.
            try await recovery.release(pid: "p1")
            #expect(try await recovery.restore(pid: "p1") != nil)
            try await recovery.discard(pid: "p2")
            #expect(try await recovery.restore(pid: "p2") == nil)
        }
    }

    /// A loop's sockets end together (`SessionWrites`): several releases and discards at once.
    @Test(arguments: RecoveryImplementation.allCases)
    func sessionsAreReleasedAndDiscardedTogether(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore(RecoveryLimits(window: .seconds(1))) { store in
            let recovery = store.recovery
            try await recovery.save((1...4).map { session("p\($0)") })
            try await recovery.release(pids: ["p1", "p2"])
            try await recovery.discard(pids: ["p3", "p4"])
            #expect(try await recovery.restore(pid: "p1") == session("p1"))
            #expect(try await recovery.restore(pid: "p2") == session("p2"))
            #expect(try await recovery.restore(pid: "p3") == nil)
            #expect(try await recovery.restore(pid: "p4") == nil)
            // Released: gone after the window.
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(try await recovery.restore(pid: "p1") == nil)
            #expect(try await recovery.restore(pid: "p2") == nil)
        }
    }

    @Test(arguments: RecoveryImplementation.allCases)
    func aReleasedSessionExpiresAfterTheWindow(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore(RecoveryLimits(window: .seconds(1))) { store in
            try await store.recovery.save([session("p")])
            try await store.recovery.release(pid: "p")
            try await Task.sleep(for: .milliseconds(1_300))
            #expect(try await store.recovery.restore(pid: "p") == nil)
        }
    }

    @Test(arguments: RecoveryImplementation.allCases)
    func missedEventsComeInOrderOncePerEvent(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore { store in
            var offsets: [RecoveryOffset] = []
            for n in 0..<6 {
                // Even events go to both rooms: they must come once.
                let rooms: Set<String> = n % 2 == 0 ? ["guest:g", "restaurant:r"] : ["restaurant:r"]
                offsets.append(try #require(try await store.publish(n, rooms, nil)))
            }
            #expect(offsets == offsets.sorted() && Set(offsets).count == 6, "offsets grow: \(offsets)")
            let all = try await store.recovery.missedEvents(after: ["guest:g": .zero, "restaurant:r": .zero])
            #expect(numbers(all) == [0, 1, 2, 3, 4, 5])
            // Each room from its own offset (a room joined later starts later).
            let some = try await store.recovery.missedEvents(after: ["guest:g": .zero, "restaurant:r": offsets[3]])
            #expect(numbers(some) == [0, 2, 4, 5])
            #expect(numbers(try await store.recovery.missedEvents(after: ["guest:g": offsets[5]])) == [])
            #expect(numbers(try await store.recovery.missedEvents(after: ["nobody:x": .zero])) == [])
        }
    }

    @Test(arguments: RecoveryImplementation.allCases)
    func theCountBoundIsPerRoomAndATrimmedGapIsNoRecovery(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore(RecoveryLimits(eventsPerRoom: 3)) { store in
            var offsets: [RecoveryOffset] = []
            for n in 0..<5 { offsets.append(try #require(try await store.publish(n, ["restaurant:busy"], nil))) }
            _ = try await store.publish(100, ["guest:quiet"], nil)
            // 0 and 1 are gone: a client behind them cannot be made whole...
            #expect(try await store.recovery.missedEvents(after: ["restaurant:busy": offsets[0]]) == nil)
            // ...one that had 1 can.
            #expect(numbers(try await store.recovery.missedEvents(after: ["restaurant:busy": offsets[1]])) == [2, 3, 4])
            // One busy room never pushes another's events out.
            #expect(numbers(try await store.recovery.missedEvents(after: ["guest:quiet": .zero])) == [100])
        }
    }

    @Test(arguments: RecoveryImplementation.allCases)
    func theHighWaterMarkFollowsDeliveries(_ implementation: RecoveryImplementation) async throws {
        try await implementation.withStore { store in
            let offset = try #require(try await store.publish(1, ["guest:g"], nil))
            if let redis = store.recovery as? RedisRecovery {
                // In a cluster the subscriber moves it, as it delivers.
                #expect(redis.highWaterMark() == .zero)
                redis.delivered(offset)
            }
            #expect(store.recovery.highWaterMark() == offset)
        }
    }

    /// A relay that retries a batch it could not mark published (killed between the publish and
    /// the mark) publishes it once: the script knows the event ids it took.
    @Test func aBatchPublishedTwiceGoesOutOnce() async throws {
        try await RecoveryImplementation.redis.withStore { store in
            let first = try await store.publish(1, ["guest:g"], "event-1")
            let again = try await store.publish(1, ["guest:g"], "event-1")
            #expect(first != nil && again == nil)
            #expect(numbers(try await store.recovery.missedEvents(after: ["guest:g": .zero])) == [1])
        }
    }
}
