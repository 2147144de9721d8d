import HeraldTesting
import Logging
import NIOPosix
import RedisClient
import SocketIO
import Testing
import Vocabulary

@testable import Notifications

/// The implementations of the notification store seam.
enum StoreImplementation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `herald serve`'s embedded store.
    case memory
    /// The cluster's store, on a throwaway redis-server.
    case redis

    var testDescription: String { rawValue }

    func withStore(_ body: (any NotificationStore) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(MemoryNotificationStore())
        case .redis:
            try await RedisServer.withClient { client in try await body(RedisNotificationStore(client: client)) }
        }
    }
}

/// The notification store seam (SPEC section 4), one suite run on every implementation.
@Suite struct NotificationStoreContractTests {
    func notification(_ index: Int, payload: JSONValue? = nil, timestamp: Int64? = nil) -> StoredNotification {
        StoredNotification(id: "e\(index)", event: "points_added", payload: payload ?? ["n": .number(Double(index))],
                           timestamp: timestamp ?? 1_767_225_600_000 + Int64(index))
    }

    @Test(arguments: StoreImplementation.allCases)
    func recordsAndListsNewestFirst(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            for index in 0..<3 { try await store.record(notification(index), room: "guest:g") }
            #expect(try await store.list(room: "guest:g") == [notification(2), notification(1), notification(0)])
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func keepsTheNewestHundred(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            for index in 0..<150 { try await store.record(notification(index), room: "guest:g") }
            let items = try await store.list(room: "guest:g")
            #expect(items.map(\.id) == (50..<150).reversed().map { "e\($0)" })
            #expect(try await store.markRead(room: "guest:g", id: "e49") == nil, "dropped for good")
            #expect(try await store.markRead(room: "guest:g", id: "e50") == 99)
        }
    }

    /// Two events of the same millisecond: the one recorded last is the newest.
    @Test(arguments: StoreImplementation.allCases)
    func aTieInTimeListsTheLastRecordedFirst(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            try await store.record(notification(2, timestamp: 5_000), room: "guest:g")
            try await store.record(notification(1, timestamp: 5_000), room: "guest:g")
            #expect(try await store.list(room: "guest:g").map(\.id) == ["e1", "e2"])
        }
    }

    /// A replayed event (same id) is kept once, as first recorded, and stays read.
    @Test(arguments: StoreImplementation.allCases)
    func aReplayedEventIsKeptOnce(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            try await store.record(notification(1), room: "admin")
            #expect(try await store.markRead(room: "admin", id: "e1") == 0)
            try await store.record(notification(1, payload: ["replayed": true]), room: "admin")
            var kept = notification(1)
            kept.read = true
            #expect(try await store.list(room: "admin") == [kept])
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func markReadAnswersTheUnreadCount(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            for index in 0..<3 { try await store.record(notification(index), room: "restaurant:r") }
            #expect(try await store.markRead(room: "restaurant:r", id: "e1") == 2)
            #expect(try await store.markRead(room: "restaurant:r", id: "e1") == 2, "twice is once")
            #expect(try await store.markRead(room: "restaurant:r", id: "nope") == nil)
            #expect(try await store.list(room: "restaurant:r").map(\.read) == [false, true, false])
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func deleteAnswersTheUnreadCount(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            for index in 0..<3 { try await store.record(notification(index), room: "restaurant:r") }
            #expect(try await store.markRead(room: "restaurant:r", id: "e2") == 2)
            #expect(try await store.delete(room: "restaurant:r", id: "e2") == 2, "a read one leaves the count")
            #expect(try await store.delete(room: "restaurant:r", id: "e0") == 1)
            #expect(try await store.delete(room: "restaurant:r", id: "e0") == nil)
            #expect(try await store.delete(room: "restaurant:r", id: "nope") == nil)
            #expect(try await store.list(room: "restaurant:r") == [notification(1)])
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func markAllReadLeavesNoneUnread(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            for index in 0..<3 { try await store.record(notification(index), room: "guest:g") }
            #expect(try await store.markRead(room: "guest:g", id: "e0") == 2)
            #expect(try await store.markAllRead(room: "guest:g") == 0)
            #expect(try await store.list(room: "guest:g").map(\.read) == [true, true, true])
            #expect(try await store.markAllRead(room: "guest:g") == 0)
            try await store.record(notification(3), room: "guest:g")
            #expect(try await store.markRead(room: "guest:g", id: "e1") == 1, "a new one is unread")
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func anUnknownCenterIsEmpty(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            #expect(try await store.list(room: "guest:nobody").isEmpty)
            #expect(try await store.markRead(room: "guest:nobody", id: "e1") == nil)
            #expect(try await store.delete(room: "guest:nobody", id: "e1") == nil)
            #expect(try await store.markAllRead(room: "guest:nobody") == 0)
            #expect(try await store.list(room: "guest:nobody").isEmpty, "asking created nothing")
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func centersDoNotMix(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            try await store.record(notification(1), room: "guest:g")
            try await store.record(notification(2), room: "guest:h")
            try await store.record(notification(1), room: "restaurant:r")
            #expect(try await store.markAllRead(room: "guest:g") == 0)
            #expect(try await store.delete(room: "guest:g", id: "e2") == nil, "e2 is h's")
            #expect(try await store.markRead(room: "guest:h", id: "e1") == nil, "e1 is g's")
            #expect(try await store.delete(room: "restaurant:r", id: "e1") == 0)
            var read = notification(1)
            read.read = true
            #expect(try await store.list(room: "guest:g") == [read])
            #expect(try await store.list(room: "guest:h") == [notification(2)])
            #expect(try await store.list(room: "restaurant:r").isEmpty)
        }
    }

    @Test(arguments: StoreImplementation.allCases)
    func aBatchIsRecordedInOrderInEachCenter(_ implementation: StoreImplementation) async throws {
        try await implementation.withStore { (store: any NotificationStore) async throws in
            try await store.record([])
            try await store.record([
                (notification(1), "guest:g"), (notification(1), "restaurant:r"), (notification(2), "guest:g"),
                (notification(2), "guest:g"), (notification(3), "admin"),
            ])
            #expect(try await store.list(room: "guest:g") == [notification(2), notification(1)])
            #expect(try await store.list(room: "restaurant:r") == [notification(1)])
            #expect(try await store.list(room: "admin") == [notification(3)])
        }
    }

    /// What a payload holds comes back as it went in, after the notification was changed too.
    @Test(arguments: StoreImplementation.allCases)
    func payloadsSurviveChanges(_ implementation: StoreImplementation) async throws {
        let payload: JSONValue = [
            "eventId": "e1", "amount": 50, "ratio": .number(0.1), "negative": -3, "big": .number(9_007_199_254_740_991),
            "text": "café \"quoted\" / \\ \u{1F600}", "flag": false, "nothing": .null,
            "empty": [], "emptyObject": [:], "nested": ["list": [1, "two", ["three": 3]]],
        ]
        /// The members of `payload` that a listed notification does not hold as they were.
        func changed(_ listed: [StoredNotification]) -> [String] {
            guard case .object(let members) = payload else { return ["?"] }
            return listed.flatMap { item in members.keys.sorted().filter { item.payload[$0] != members[$0] } }
        }
        try await implementation.withStore { (store: any NotificationStore) async throws in
            try await store.record(notification(1, payload: payload), room: "guest:g")
            try await store.record(notification(2, payload: payload), room: "guest:g")
            let recorded = try await store.list(room: "guest:g")
            #expect(recorded.count == 2 && changed(recorded) == [])
            #expect(try await store.markRead(room: "guest:g", id: "e1") == 1)
            let afterMarkRead = changed(try await store.list(room: "guest:g"))
            #expect(afterMarkRead == [], "after mark_read")
            #expect(try await store.markAllRead(room: "guest:g") == 0)
            let afterMarkAllRead = changed(try await store.list(room: "guest:g"))
            #expect(afterMarkAllRead == [], "after mark_all_read")
        }
    }
}
