import Vocabulary

/// Who may be in which room (SPEC section 3).
public enum RoomPolicy {
    /// The rooms a socket joins on connect: `user:<sub>` and its role's room.
    public static func automaticRooms(for identity: Identity) -> [ChannelName] {
        let user = ChannelName.user(identity.userId)
        switch identity.role {
        case .guest: return [user, ChannelName.guest(identity.userId)]
        case .restaurant: return [user, ChannelName.restaurant(identity.restaurantId ?? "")]
        case .admin: return [user, .admin]
        }
    }

    /// Whether `identity` may subscribe to (or unsubscribe from) `channel`: a guest only its own
    /// guest room, a restaurant account only its own restaurant room, an admin any room.
    public static func mayAccess(_ identity: Identity, _ channel: ChannelName) -> Bool {
        switch identity.role {
        case .admin: true
        case .guest: channel == ChannelName.guest(identity.userId)
        case .restaurant: channel == ChannelName.restaurant(identity.restaurantId ?? "")
        }
    }

    /// Rooms a socket may hold besides its automatic ones.
    public static let maxSubscriptions = 100
}
