/// Why a token was refused; the message is what the client reads in CONNECT_ERROR or a 401 body.
public enum AuthError: Error, Sendable, Equatable {
    case missingToken
    case malformedToken
    case invalidSignature
    case expired
    case missingExpiry
    case unknownRole(String)
    case missingRestaurant

    public var message: String {
        switch self {
        case .missingToken: "missing token"
        case .malformedToken: "malformed token"
        case .invalidSignature: "invalid token signature"
        case .expired: "token expired"
        case .missingExpiry: "token has no expiry"
        case .unknownRole(let role): "unknown role \(role.debugDescription)"
        case .missingRestaurant: "restaurant token without restaurantId"
        }
    }
}
