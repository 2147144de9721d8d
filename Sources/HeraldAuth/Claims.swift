import JWTKit

/// The roles of SPEC section 3.
public enum Role: String, Sendable, Codable, CaseIterable {
    case guest
    case restaurant
    case admin
}

/// A verified caller: who it is, its role and, for restaurant accounts, its restaurant.
public struct Identity: Sendable, Hashable {
    public var userId: String
    public var role: Role
    public var restaurantId: String?

    public init(userId: String, role: Role, restaurantId: String? = nil) {
        self.userId = userId
        self.role = role
        self.restaurantId = restaurantId
    }
}

/// The JWT payload as signed: `sub`, `role`, `restaurantId`, `exp` (SPEC section 3).
///
/// `role` is read as a plain string and `exp` as optional so that a token with an unknown role
/// or without expiry is told apart from a malformed one.
struct HeraldClaims: JWTPayload {
    var sub: SubjectClaim
    var role: String
    var restaurantId: String?
    var exp: ExpirationClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try check()
    }

    /// The claims' own rules, after the signature: an expiry, not passed.
    func check() throws {
        guard let exp else { throw AuthError.missingExpiry }
        do {
            try exp.verifyNotExpired()
        } catch {
            throw AuthError.expired
        }
    }
}
