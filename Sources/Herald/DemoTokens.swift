import HTTPServer
import HeraldAuth
import NIOCore
import NIOHTTP1
import Vocabulary

/// `serve --demo` only: the page at `/` signs in as a demo guest, restaurant or admin.
///
/// `POST /demo/token` with `{role, sub, restaurantId?}` answers `{token}`, signed for 12 hours.
/// Anyone who can reach it can be anyone, so it exists only when asked for (SPEC section 2), and
/// `serve` says so in its log. `GET /demo` tells the page whether it does (`{"demo": false}` on
/// every other node), so the page asks for a token instead of failing a request.
struct DemoTokens: HTTPEndpoint {
    /// The signer of demo tokens; nil where the demo is off.
    let authority: TokenAuthority?

    /// Demo tokens last a working day.
    static let ttl = 12 * 3600

    func handles(path: Substring) -> Bool {
        path == "/demo" || path == "/demo/token"
    }

    var maxBodySize: Int { 4 * 1024 }

    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let responder = HTTPResponder(channel: channel, request: head)
        switch (head.path, head.method) {
        case ("/demo", .GET):
            responder.respond(.ok, json: authority == nil ? #"{"demo":false}"# : #"{"demo":true,"roles":["guest","restaurant","admin"]}"#)
        case ("/demo/token", .POST):
            guard let authority else { return Self.demoIsOff(responder) }
            let identity: Identity
            switch Self.identity(from: body) {
            case .success(let found): identity = found
            case .failure(let refusal):
                responder.respond(.badRequest, json: errorBody(code: "bad_request", message: refusal.message))
                return
            }
            channel.eventLoop.makeFutureWithTask { try await authority.sign(identity, ttl: Self.ttl) }.whenComplete { result in
                switch result {
                case .success(let token):
                    responder.respond(.ok, json: JSONValue.object(["token": .string(token)]).jsonString)
                case .failure:
                    responder.respond(.internalServerError, json: errorBody(code: "internal", message: "could not sign"))
                }
            }
        case ("/demo/token", _) where authority == nil:
            Self.demoIsOff(responder)
        default:
            responder.respond(.methodNotAllowed, json: errorBody(code: "method_not_allowed", message: "GET /demo or POST /demo/token"))
        }
    }

    /// Without `--demo` the token endpoint does not exist, whatever the method.
    private static func demoIsOff(_ responder: HTTPResponder) {
        responder.respond(.notFound, json: errorBody(code: "not_found", message: "no such endpoint: the demo is off"))
    }

    struct Refusal: Error { let message: String }

    /// The identity asked for: a known role, ids as channels spell them (SPEC section 3).
    static func identity(from body: ByteBuffer) -> Result<Identity, Refusal> {
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes),
              case .object(let fields)? = JSONValue(parsing: text)
        else { return .failure(Refusal(message: "the body must be a JSON object")) }
        guard let role = fields["role"]?.stringValue.flatMap(Role.init(rawValue:)) else {
            return .failure(Refusal(message: "role must be guest, restaurant or admin"))
        }
        guard let sub = fields["sub"]?.stringValue, ChannelName.isValidID(sub) else {
            return .failure(Refusal(message: "sub must be 1 to 128 of A-Z a-z 0-9 _ . @ -"))
        }
        var restaurantId: String?
        if role == .restaurant {
            guard let id = fields["restaurantId"]?.stringValue, ChannelName.isValidID(id) else {
                return .failure(Refusal(message: "a restaurant account needs a restaurantId"))
            }
            restaurantId = id
        }
        return .success(Identity(userId: sub, role: role, restaurantId: restaurantId))
    }
}
