import Foundation
import JWTKit
import Testing

@testable import HeraldAuth

@Suite struct TokenAuthorityTests {
    let secret = "unit-test-secret-of-some-length"

    @Test func signedTokensVerify() async throws {
        let authority = await TokenAuthority(secret: secret)
        for identity in [
            Identity(userId: "g1", role: .guest),
            Identity(userId: "s1", role: .restaurant, restaurantId: "r1"),
            Identity(userId: "a1", role: .admin),
        ] {
            let token = try await authority.sign(identity, ttl: 60)
            #expect(try authority.verify(token).get() == identity)
        }
    }

    /// A token signed by another implementation (Python's hmac, secret "short") verifies: short
    /// secrets are zero-padded, which leaves HMAC-SHA256 unchanged.
    @Test func tokenFromAnotherSignerWithShortSecret() async throws {
        let token = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidmVjdG9yLXVzZXIiLCAicm9sZSI6ICJyZXN0YXVyYW50IiwgInJlc3RhdXJhbnRJZCI6ICJyLTQyIiwgImV4cCI6IDQxMDI0NDQ4MDB9.UNmkPz9NBIe8KJh6CSO281zwXNETNhvolEQjQHl2000"
        let authority = await TokenAuthority(secret: "short")
        #expect(try authority.verify(token).get() == Identity(userId: "vector-user", role: .restaurant, restaurantId: "r-42"))
        #expect(await TokenAuthority(secret: "shorter").verify(token) == .failure(.invalidSignature))
    }

    @Test func refusals() async throws {
        let authority = await TokenAuthority(secret: secret)
        let other = await TokenAuthority(secret: secret + "-other")
        #expect(authority.verify(nil) == .failure(.missingToken))
        #expect(authority.verify("") == .failure(.missingToken))
        #expect(authority.verify("abc") == .failure(.malformedToken))
        #expect(authority.verify("a.b.c") == .failure(.malformedToken))
        #expect(authority.verify(String(repeating: "a", count: TokenAuthority.maxTokenBytes + 1)) == .failure(.malformedToken))
        let foreign = try await other.sign(Identity(userId: "g", role: .guest), ttl: 60)
        #expect(authority.verify(foreign) == .failure(.invalidSignature))
        let expired = try await authority.sign(Identity(userId: "g", role: .guest), ttl: -120)
        #expect(authority.verify(expired) == .failure(.expired))
    }

    /// The key is HS256's alone: a header naming another algorithm (`none` above all) is refused
    /// even when its HS256 signature is right, and so is `none` without a signature.
    @Test func onlyHS256HeadersVerify() async throws {
        let authority = await TokenAuthority(secret: secret)
        let token = try await authority.sign(Identity(userId: "g", role: .guest), ttl: 60)
        let payload = token.split(separator: ".")[1]
        let key = try await authority.keysForTesting.getKey()
        for alg in ["none", "HS512", "RS256", "hs256"] {
            let header = Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8).base64URL
            let input = header + "." + payload
            let signature = Data(try key.sign(Array(input.utf8))).base64URL
            #expect(authority.verify(input + "." + signature) == .failure(.invalidSignature), "alg \(alg)")
            #expect(authority.verify(input + ".") != .success(Identity(userId: "g", role: .guest)), "alg \(alg), unsigned")
        }
        let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URL
        let input = header + "." + payload
        let signature = Data(try key.sign(Array(input.utf8))).base64URL
        #expect(authority.verify(input + "." + signature) == .success(Identity(userId: "g", role: .guest)))
    }

    @Test func claimsChecks() async throws {
        let authority = await TokenAuthority(secret: secret)
        let unknownRole = try await sign(authority, HeraldClaims(sub: "u", role: "chef", exp: .init(value: .distantFuture)))
        #expect(authority.verify(unknownRole) == .failure(.unknownRole("chef")))
        let noRestaurant = try await sign(authority, HeraldClaims(sub: "u", role: "restaurant", exp: .init(value: .distantFuture)))
        #expect(authority.verify(noRestaurant) == .failure(.missingRestaurant))
        let noExpiry = try await sign(authority, HeraldClaims(sub: "u", role: "guest", exp: nil))
        #expect(authority.verify(noExpiry) == .failure(.missingExpiry))
        let guestWithRestaurant = try await sign(
            authority, HeraldClaims(sub: "u", role: "guest", restaurantId: "r", exp: .init(value: .distantFuture)))
        #expect(try authority.verify(guestWithRestaurant).get().restaurantId == nil)
    }

    private func sign(_ authority: TokenAuthority, _ claims: HeraldClaims) async throws -> String {
        try await authority.keysForTesting.sign(claims)
    }

    @Test func bearerHeader() {
        #expect(TokenAuthority.bearerToken("Bearer abc") == "abc")
        #expect(TokenAuthority.bearerToken("bearer  abc") == "abc")
        #expect(TokenAuthority.bearerToken("Basic abc") == nil)
        #expect(TokenAuthority.bearerToken("Bearer") == nil)
        #expect(TokenAuthority.bearerToken(nil) == nil)
    }

    /// The cache keeps verified tokens by digest, until they expire, within its bound.
    @Test func verifiedTokensAreBoundedAndExpire() {
        let cache = VerifiedTokens(capacity: 2)
        let now = Date()
        let guest = Identity(userId: "g", role: .guest)
        cache.remember("token-a", guest, until: now.addingTimeInterval(60))
        cache.remember("token-b", guest, until: now.addingTimeInterval(60))
        #expect(cache.identity(for: "token-a", at: now) == guest)
        #expect(cache.identity(for: "token-c", at: now) == nil)
        // Full: it starts over, so the older entries go.
        cache.remember("token-c", guest, until: now.addingTimeInterval(60))
        #expect(cache.identity(for: "token-b", at: now) == nil)
        #expect(cache.identity(for: "token-c", at: now) == guest)
        #expect(cache.identity(for: "token-c", at: now.addingTimeInterval(61)) == nil)
    }
}

extension Data {
    /// Base64url without padding (RFC 7515 section 2).
    fileprivate var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
