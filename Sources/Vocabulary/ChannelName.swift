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

    /// The room builders: every room Herald addresses is spelled here, nowhere else.
    public static func user(_ id: String) -> ChannelName { ChannelName(kind: .user, id: id) }
    public static func guest(_ id: String) -> ChannelName { ChannelName(kind: .guest, id: id) }
    public static func restaurant(_ id: String) -> ChannelName { ChannelName(kind: .restaurant, id: id) }

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
