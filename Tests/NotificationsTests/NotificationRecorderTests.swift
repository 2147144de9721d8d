import NIOConcurrencyHelpers
import SocketIO
import Testing
import Vocabulary

@testable import Notifications

/// A broadcaster that keeps what it was handed, or refuses everything.
final class KeepingBroadcaster: Broadcaster {
    let handed = NIOLockedValueBox<[String]>([])
    let refuses: Bool

    init(refuses: Bool = false) { self.refuses = refuses }

    func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        if refuses { throw CancellationError() }
        handed.withLockedValue { $0.append(packet.eventArguments.first?["eventId"]?.stringValue ?? "?") }
    }
}

/// The outbox relay's broadcaster: events land in the notification centers of their rooms, then
/// go on, one at a time or as a batch.
@Suite struct NotificationRecorderTests {
    func event(_ id: String, rooms: Set<String>) -> Broadcast {
        Broadcast(.event("points_added", [["eventId": .string(id), "timestamp": 7]]), options: BroadcastOptions(rooms: rooms))
    }

    @Test func aBatchIsRecordedInEveryCenterThenHandedOnInOrder() async throws {
        let store = MemoryNotificationStore(), next = KeepingBroadcaster()
        let recorder = NotificationRecorder(next: next, store: store)
        try await recorder.broadcast([
            event("e1", rooms: ["guest:g", "restaurant:r"]), event("e2", rooms: ["guest:g"]), event("e3", rooms: ["user:g"]),
        ])
        #expect(next.handed.withLockedValue { $0 } == ["e1", "e2", "e3"])
        #expect(store.list(room: "guest:g").map(\.id) == ["e2", "e1"])
        #expect(store.list(room: "restaurant:r").map(\.id) == ["e1"])
        #expect(store.list(room: "user:g").isEmpty, "user rooms keep no center")
    }

    @Test func whatCouldNotGoOnIsCounted() async throws {
        let recorder = NotificationRecorder(next: KeepingBroadcaster(refuses: true), store: MemoryNotificationStore())
        await #expect {
            try await recorder.broadcast([event("e1", rooms: ["guest:g"]), event("e2", rooms: ["guest:g"])])
        } throws: { error in
            (error as? BatchBroadcastError)?.handedOn == 0
        }
    }
}
