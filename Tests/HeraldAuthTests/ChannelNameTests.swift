import Testing
import Vocabulary

@testable import HeraldAuth

@Suite struct ChannelNameTests {
    @Test(arguments: ["admin", "user:u1", "guest:A-z_0.9@x", "restaurant:r1", "guest:" + String(repeating: "x", count: 128)])
    func valid(_ text: String) {
        #expect(ChannelName(text)?.description == text)
    }

    @Test(arguments: [
        "", "admin:1", "Admin", "guest", "guest:", "guest:a b", "guest:é", "chef:1", ":x", "guest:a:b",
        "guest:" + String(repeating: "x", count: 129), "user:/", " guest:a",
    ])
    func invalid(_ text: String) {
        #expect(ChannelName(text) == nil)
    }

    @Test func automaticRooms() {
        #expect(RoomPolicy.automaticRooms(for: Identity(userId: "g", role: .guest)).map(\.description) == ["user:g", "guest:g"])
        #expect(RoomPolicy.automaticRooms(for: Identity(userId: "s", role: .restaurant, restaurantId: "r")).map(\.description)
            == ["user:s", "restaurant:r"])
        #expect(RoomPolicy.automaticRooms(for: Identity(userId: "a", role: .admin)).map(\.description) == ["user:a", "admin"])
    }

    /// SPEC section 3: a guest only its own guest room, a restaurant only its own room, an admin any.
    @Test func authorizationMatrix() {
        let guest = Identity(userId: "g", role: .guest)
        let staff = Identity(userId: "s", role: .restaurant, restaurantId: "r")
        let admin = Identity(userId: "a", role: .admin)
        let cases: [(Identity, String, Bool)] = [
            (guest, "guest:g", true), (guest, "guest:h", false), (guest, "user:g", false),
            (guest, "restaurant:r", false), (guest, "admin", false),
            (staff, "restaurant:r", true), (staff, "restaurant:q", false), (staff, "guest:g", false),
            (staff, "user:s", false), (staff, "admin", false),
            (admin, "guest:g", true), (admin, "restaurant:q", true), (admin, "user:x", true), (admin, "admin", true),
        ]
        for (identity, channel, allowed) in cases {
            #expect(RoomPolicy.mayAccess(identity, ChannelName(channel)!) == allowed, "\(identity.role) \(channel)")
        }
    }
}
