import HeraldAuth
import SocketIO
import Testing

@testable import Gateway

@Suite struct NotificationStoreTests {
    func notification(_ index: Int) -> StoredNotification {
        StoredNotification(id: "e\(index)", event: "points_added", payload: ["n": .number(Double(index))], timestamp: Int64(index))
    }

    @Test func keepsTheNewestHundredNewestFirst() async {
        let store = MemoryNotificationStore()
        for index in 0..<150 { await store.record(notification(index), room: "guest:g") }
        let items = await store.list(room: "guest:g")
        #expect(items.count == 100)
        #expect(items.first?.id == "e149")
        #expect(items.last?.id == "e50")
        #expect(await store.list(room: "guest:other").isEmpty)
    }

    @Test func aReplayedEventIsKeptOnce() async {
        let store = MemoryNotificationStore()
        await store.record(notification(1), room: "admin")
        await store.record(notification(1), room: "admin")
        #expect(await store.list(room: "admin").count == 1)
    }

    @Test func actions() async {
        let store = MemoryNotificationStore()
        for index in 0..<3 { await store.record(notification(index), room: "restaurant:r") }
        #expect(await store.markRead(room: "restaurant:r", id: "e1") == 2)
        #expect(await store.markRead(room: "restaurant:r", id: "nope") == nil)
        #expect(await store.delete(room: "restaurant:r", id: "e0") == 1)
        #expect(await store.delete(room: "restaurant:r", id: "e0") == nil)
        #expect(await store.markAllRead(room: "restaurant:r") == 0)
        #expect(await store.list(room: "restaurant:r").map(\.read) == [true, true])
        #expect(notification(7).json["id"] == "e7")
    }

    @Test func centersBelongToRoles() {
        let guest = NotificationCenterID(for: .init(userId: "g", role: .guest))
        #expect(guest.room == "guest:g" && guest.pushRoom == "user:g")
        let staff = NotificationCenterID(for: .init(userId: "s", role: .restaurant, restaurantId: "r"))
        #expect(staff.room == "restaurant:r" && staff.pushRoom == "restaurant:r")
        let admin = NotificationCenterID(for: .init(userId: "a", role: .admin))
        #expect(admin.room == "admin" && admin.pushRoom == "admin")
    }
}
