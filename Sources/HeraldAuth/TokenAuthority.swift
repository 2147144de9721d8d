import Crypto
import JWTKit
import NIOConcurrencyHelpers

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signs and verifies Herald's HS256 tokens with one shared secret (jwt-kit).
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    /// The collection's HS256 signer, called directly to verify: `JWTKeyCollection` is an actor,
    /// and on a gateway the hop into it (a task, a thread of the global pool, then a wake-up of
    /// the event loop) cost more than the verification itself (perf: ~15 % of a connect).
    private let algorithm: any JWTAlgorithm
    private static let parser = DefaultJWTParser()
    private let verified: VerifiedTokens
    var keysForTesting: JWTKeyCollection { keys }
    public static let apiCacheCapacity = 10_000
    /// Enough for the reconnects a gateway sees again within a token's life (page reloads,
    /// network blips), without an entry for each of its connections.
    public static let gatewayCacheCapacity = 1_024
    /// A longer token is refused unread. Herald's are ~200 bytes; the bound keeps a client that
    /// sends megabyte tokens again and again from holding its event loop over HMACs and JSON.
    public static let maxTokenBytes = 8_192

    /// `cacheCapacity` bounds the tokens kept verified. The points API sees the same tokens
    /// again and again (10,000 by default); a gateway verifies each of its connections' tokens
    /// about once, so its cache would mostly hold one ~100-byte entry per idle connection.
    public init(secret: String, cacheCapacity: Int = TokenAuthority.apiCacheCapacity) async {
        verified = VerifiedTokens(capacity: cacheCapacity)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.keyBytes(secret)), digestAlgorithm: .sha256)
        guard let algorithm = try? await keys.getKey() else { preconditionFailure("jwt-kit lost the key it was just given") }
        self.keys = keys
        self.algorithm = algorithm
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

    /// Verifies a token and returns the identity it carries: synchronous and CPU-only (an HMAC
    /// and a JSON decode, or a cache hit), so an event loop may call it.
    public func verify(_ token: String?) -> Result<Identity, AuthError> {
        guard let token, !token.isEmpty else { return .failure(.missingToken) }
        guard token.utf8.count <= Self.maxTokenBytes else { return .failure(.malformedToken) }
        let now = Date()
        if let identity = verified.identity(for: token, at: now) { return .success(identity) }
        let claims: HeraldClaims
        do {
            claims = try verifiedClaims(token)
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
        let identity = Identity(userId: claims.sub.value, role: role, restaurantId: role == .restaurant ? restaurantId : nil)
        if let expiry = claims.exp?.value { verified.remember(token, identity, until: expiry) }
        return .success(identity)
    }

    /// What `JWTKeyCollection.verify` does for one HMAC key, without its actor: jwt-kit parses
    /// the token, its signer checks the signature over the first two parts, then the claims.
    /// Stricter in one way: the header must say HS256 (RFC 8725 section 3.1; jwt-kit checks any
    /// `alg`, `none` included, against the one key).
    private func verifiedClaims(_ token: String) throws -> HeraldClaims {
        let bytes = Array(token.utf8)
        let (header, claims, signature) = try Self.parser.parse(bytes, as: HeraldClaims.self)
        guard header.alg == "HS256", let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")),
              try algorithm.verify(signature, signs: bytes[..<lastDot])
        else { throw JWTError.signatureVerificationFailed }
        try claims.check()
        return claims
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

/// Tokens already verified, until they expire: a till or a load of API calls sends the same
/// token again and again, and each check costs an HMAC and a JSON decode.
///
/// Bounded: when full it starts over, which costs one verification per token again.
///
/// Keyed by the token's SHA-256, not the token: a gateway verifies each of its connections'
/// tokens, so the cache holds about one entry per idle connection, and a token's text (~200
/// bytes) was the largest part of one (heaptrack). A digest stands for its token as safely as
/// the text does: finding another string with the same digest is infeasible.
final class VerifiedTokens: Sendable {
    private let entries = NIOLockedValueBox<[SHA256Digest: (identity: Identity, expiry: Date)]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func identity(for token: String, at now: Date) -> Identity? {
        let key = SHA256.hash(data: Array(token.utf8))
        return entries.withLockedValue { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expiry > now else {
                entries[key] = nil
                return nil
            }
            return entry.identity
        }
    }

    func remember(_ token: String, _ identity: Identity, until expiry: Date) {
        let key = SHA256.hash(data: Array(token.utf8))
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (identity, expiry)
        }
    }
}
