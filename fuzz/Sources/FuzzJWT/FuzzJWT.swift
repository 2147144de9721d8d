// JWT verification (TokenAuthority.verify over jwt-kit, HS256), bearer headers and channel names.
//
// HeraldAuth is not a product of the Herald package, so its sources are compiled into this
// target (the symlink HeraldAuth/). verify is async: each input runs it in a Task and waits on
// a semaphore, with a fresh authority so that no verified-token cache carries over.
//
// The first byte picks the mode:
//   even: the rest is the token, as a client sends it;
//   odd:  the rest is `<header JSON>\n<payload JSON>`; the harness base64url-encodes both and
//         signs them with the authority's secret, so the claims' decoding and checks are reached.
// Invariants: a verified identity is a role's (a restaurant one has a non-empty restaurantId, the
// others none) and, signed again, verifies to itself; a bearer token is non-empty and starts with
// no space; a channel name that parses prints as the text it was parsed from.
import Crypto
import Dispatch
import ExtrasBase64
import FuzzSupport
import JWTKit
import Vocabulary

let secret = "fuzz-secret"

final class Box<Value>: @unchecked Sendable {
    var value: Value?
}

/// Runs async work to completion from libFuzzer's synchronous callback.
func blocking<Value>(_ work: @escaping @Sendable () async -> Value) -> Value {
    let box = Box<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

func base64url(_ bytes: some Collection<UInt8>) -> String {
    Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
}

func signed(header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>) -> String {
    let message = base64url(header) + "." + base64url(payload)
    let key = SymmetricKey(data: TokenAuthority.keyBytes(secret))
    let mac = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)
    return message + "." + base64url(Array(mac))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWT(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    guard let mode = bytes.first else { return 0 }
    let rest = bytes.dropFirst()
    let token: String
    if mode & 1 == 0 {
        token = String(decoding: rest, as: UTF8.self)
    } else {
        let newline = rest.firstIndex(of: 0x0A) ?? rest.endIndex
        token = signed(header: rest[..<newline], payload: newline == rest.endIndex ? [] : rest[(newline + 1)...])
    }

    let result = blocking { await TokenAuthority(secret: secret).verify(token) }
    if case .success(let identity) = result {
        if identity.role == .restaurant {
            invariant(!(identity.restaurantId ?? "").isEmpty, "restaurant identity without restaurant: \(identity)")
        } else {
            invariant(identity.restaurantId == nil, "\(identity.role) identity with a restaurant: \(identity)")
        }
        let again = blocking {
            let authority = await TokenAuthority(secret: secret)
            guard let token = try? await authority.sign(identity, ttl: 3600) else { return Result<Identity, AuthError>.failure(.malformedToken) }
            return authority.verify(token)
        }
        invariant(again == .success(identity), "\(identity) signed again verifies as \(again)")
    }

    let text = String(decoding: rest, as: UTF8.self)
    if let bearer = TokenAuthority.bearerToken(text) {
        invariant(!bearer.isEmpty && bearer.first?.isWhitespace == false, "bearer token \(bearer.debugDescription) of \(text.debugDescription)")
    }
    if let channel = ChannelName(text) {
        invariant(channel.description == text, "channel \(channel) parsed from \(text.debugDescription)")
    }
    return 0
}

@_cdecl("FuzzJWT_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzJWT)
}
