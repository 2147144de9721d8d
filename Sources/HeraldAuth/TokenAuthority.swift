import JWTKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signs and verifies Herald's HS256 tokens with one shared secret (jwt-kit).
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    var keysForTesting: JWTKeyCollection { keys }

    public init(secret: String) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.keyBytes(secret)), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// The secret's bytes, zero-padded to 32.
    ///
    /// jwt-kit traps on HMAC keys shorter than the digest, but tokens signed elsewhere (Node's
    /// `jsonwebtoken`) may use shorter secrets. HMAC pads every key shorter than its 64-byte
    /// block with zeros (RFC 2104 section 2), so the padded key yields the very same signatures.
    static func keyBytes(_ secret: String) -> [UInt8] {
        let bytes = Array(secret.utf8)
        return bytes.count >= 32 ? bytes : bytes + [UInt8](repeating: 0, count: 32 - bytes.count)
    }

    /// Verifies a token and returns the identity it carries.
    public func verify(_ token: String?) async -> Result<Identity, AuthError> {
        guard let token, !token.isEmpty else { return .failure(.missingToken) }
        let claims: HeraldClaims
        do {
            claims = try await keys.verify(token, as: HeraldClaims.self)
        } catch let error as AuthError {
            return .failure(error)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            return .failure(.invalidSignature)
        } catch {
            return .failure(.malformedToken)
        }
        guard let role = Role(rawValue: claims.role) else { return .failure(.unknownRole(claims.role)) }
        let restaurantId = claims.restaurantId
        if role == .restaurant, restaurantId?.isEmpty ?? true { return .failure(.missingRestaurant) }
        return .success(Identity(userId: claims.sub.value, role: role, restaurantId: role == .restaurant ? restaurantId : nil))
    }

    /// Signs a token for `identity` that expires after `ttl` seconds.
    public func sign(_ identity: Identity, ttl: Int) async throws -> String {
        let claims = HeraldClaims(
            sub: SubjectClaim(value: identity.userId),
            role: identity.role.rawValue,
            restaurantId: identity.restaurantId,
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + Double(ttl)).rounded(.down)))
        )
        return try await keys.sign(claims)
    }

    /// The token carried by an `Authorization: Bearer` header, if any.
    public static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop(while: \.isWhitespace)
        return token.isEmpty ? nil : String(token)
    }
}
