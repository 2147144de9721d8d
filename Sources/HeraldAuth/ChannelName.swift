
/// A room a client may name: `admin`, or `<kind>:<id>` (SPEC section 3).
public struct ChannelName: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case user
        case guest
        case restaurant
    }

    /// nil for `admin`.
    public let kind: Kind?
    public let id: String

    public static let admin = ChannelName(kind: nil, id: "")

    public init(kind: Kind, id: String) {
        self.init(kind: Optional(kind), id: id)
    }

    private init(kind: Kind?, id: String) {
        self.kind = kind
        self.id = id
    }

    /// Parses a channel; nil for anything outside the grammar (`invalid_channel`).
    public init?(_ text: String) {
        if text == "admin" {
            self = .admin
            return
        }
        guard let colon = text.firstIndex(of: ":"),
              let kind = Kind(rawValue: String(text[..<colon]))
        else { return nil }
        let id = String(text[text.index(after: colon)...])
        guard Self.isValidID(id) else { return nil }
        self.init(kind: kind, id: id)
    }

    /// 1 to 128 characters from `A-Z a-z 0-9 _ . @ -` (also the grammar of `guestId` and `restaurantId`).
    public static func isValidID(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count) else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "@"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    public var description: String {
        guard let kind else { return "admin" }
        return "\(kind.rawValue):\(id)"
    }
}

/// Who may be in which room (SPEC section 3).
public enum RoomPolicy {
    /// The rooms a socket joins on connect: `user:<sub>` and its role's room.
    public static func automaticRooms(for identity: Identity) -> [ChannelName] {
        let user = ChannelName(kind: .user, id: identity.userId)
        switch identity.role {
        case .guest: return [user, ChannelName(kind: .guest, id: identity.userId)]
        case .restaurant: return [user, ChannelName(kind: .restaurant, id: identity.restaurantId ?? "")]
        case .admin: return [user, .admin]
        }
    }

    /// Whether `identity` may subscribe to (or unsubscribe from) `channel`: a guest only its own
    /// guest room, a restaurant account only its own restaurant room, an admin any room.
    public static func mayAccess(_ identity: Identity, _ channel: ChannelName) -> Bool {
        switch identity.role {
        case .admin: true
        case .guest: channel == ChannelName(kind: .guest, id: identity.userId)
        case .restaurant: channel == ChannelName(kind: .restaurant, id: identity.restaurantId ?? "")
        }
    }

    /// Rooms a socket may hold besides its automatic ones.
    public static let maxSubscriptions = 100
}
