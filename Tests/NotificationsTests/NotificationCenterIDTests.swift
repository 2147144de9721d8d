import HeraldAuth
import SocketIO
import Testing
import Vocabulary

@testable import Notifications

/// Whose center a socket reads, and the shape of a kept notification (the stores themselves:
/// `NotificationStoreContractTests`).
@Suite struct NotificationCenterIDTests {
    @Test func centersBelongToRoles() {
        let guest = NotificationCenterID(for: .init(userId: "g", role: .guest))
        #expect(guest.room == "guest:g" && guest.pushRoom == "user:g")
        let staff = NotificationCenterID(for: .init(userId: "s", role: .restaurant, restaurantId: "r"))
        #expect(staff.room == "restaurant:r" && staff.pushRoom == "restaurant:r")
        let admin = NotificationCenterID(for: .init(userId: "a", role: .admin))
        #expect(admin.room == "admin" && admin.pushRoom == "admin")
    }

    @Test func aNotificationIsItsSpecShape() {
        let notification = StoredNotification(id: "e7", event: "points_added", payload: ["n": 7], timestamp: 7)
        #expect(notification.json == ["id": "e7", "event": "points_added", "payload": ["n": 7], "read": false, "timestamp": 7])
    }
}
