import HeraldAuth
import Vocabulary

/// Who may call what (SPEC section 5): 403s, after the token was found valid.
enum Access {
    /// Writes: restaurant accounts and admins.
    static func requireStaff(_ caller: Identity) throws(APIError) {
        guard caller.role == .admin || caller.role == .restaurant else {
            throw .forbidden("only restaurant accounts and admins may do this")
        }
    }

    /// A restaurant account only for its own restaurant; admins for all.
    static func requireRestaurant(_ caller: Identity, _ restaurantId: String) throws(APIError) {
        guard caller.role == .admin || (caller.role == .restaurant && caller.restaurantId == restaurantId) else {
            throw .forbidden("a restaurant account may act for its own restaurant only")
        }
    }

    /// Balance and transactions: admins, any restaurant account, or the guest itself.
    static func requireReader(_ caller: Identity, guestId: String) throws(APIError) {
        guard caller.role != .guest || caller.userId == guestId else {
            throw .forbidden("a guest may read its own balance only")
        }
    }

    /// Presence: admins, or a restaurant account for its own `restaurant:<id>`.
    static func requirePresence(_ caller: Identity, _ room: ChannelName) throws(APIError) {
        guard caller.role == .admin || (caller.role == .restaurant && room == ChannelName(kind: .restaurant, id: caller.restaurantId ?? ""))
        else { throw .forbidden("presence of this room is not yours to see") }
    }
}
