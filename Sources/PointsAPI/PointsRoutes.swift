import Crypto
import ExtrasBase64
import Foundation
import HeraldAuth
import HTTPTypes
import Hummingbird
import PointsLedger
import SocketIO
import Vocabulary

/// The routes of SPEC section 5 under `/api/`.
struct PointsRoutes: Sendable {
    let ledger: any Ledger
    let authority: TokenAuthority
    let presence: any Adapter
    let openAPI: ByteBuffer

    func register(on router: Router<BasicRequestContext>) {
        let api = router.group("api")
        api.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: openAPI))
        }
        api.post("points/add") { request, context in try await points(request, context, redeem: false) }
        api.post("points/redeem") { request, context in try await points(request, context, redeem: true) }
        api.post("guests") { request, context in try await registerGuest(request, context) }
        api.post("cards") { request, context in try await createCard(request, context) }
        api.put("restaurants/:id") { request, context in try await nameRestaurant(request, context) }
        api.post("alerts") { request, context in try await raiseAlert(request, context) }
        api.get("guests/:id/balance") { request, context in try await balance(request, context) }
        api.get("guests/:id/transactions") { request, context in try await transactions(request, context) }
        api.get("presence/:room") { request, context in try await presence(request, context) }
        api.get("presence") { request, _ in try await clusterPresence(request) }
    }

    // MARK: Writes

    private func points(_ request: Request, _ context: BasicRequestContext, redeem: Bool) async throws -> Response {
        let caller = try await authenticate(request)
        try Access.requireStaff(caller)
        let body = try await request.body.collect(upTo: PointsEndpoint.maxBodySize)
        let fields = try RequestFields(body: body)
        try requireNamedRestaurant(caller, fields)
        let change = PointsChange(
            guestId: try fields.id("guestId"),
            restaurantId: try fields.id("restaurantId"),
            amount: try fields.amount(),
            description: try fields.text("description", length: 0...500, default: "")
        )
        try Access.requireRestaurant(caller, change.restaurantId)
        return try await apply(redeem ? .redeemPoints(change) : .addPoints(change), request, caller, body) { outcome in
            guard case .points(let transaction, let newBalance) = outcome else { return .init(status: 500, body: "{}") }
            return .init(status: 201, body: JSONValue.object([
                "transaction": transaction.json, "newBalance": .number(Double(newBalance)),
            ]).jsonString)
        }
    }

    private func registerGuest(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        try Access.requireStaff(caller)
        let body = try await request.body.collect(upTo: PointsEndpoint.maxBodySize)
        let fields = try RequestFields(body: body)
        try requireNamedRestaurant(caller, fields)
        let guestId = try fields.id("guestId")
        let name = try fields.text("name", length: 1...200)
        let restaurantId = try fields.id("restaurantId")
        try Access.requireRestaurant(caller, restaurantId)
        let write = LedgerWrite.registerGuest(guestId: guestId, name: name, restaurantId: restaurantId)
        return try await apply(write, request, caller, body) { outcome in
            guard case .guestRegistered(let guest, let created) = outcome else { return .init(status: 500, body: "{}") }
            return .init(status: created ? 201 : 200, body: JSONValue.object(["guest": guest.json]).jsonString)
        }
    }

    private func createCard(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        try Access.requireStaff(caller)
        let body = try await request.body.collect(upTo: PointsEndpoint.maxBodySize)
        let fields = try RequestFields(body: body)
        try requireNamedRestaurant(caller, fields)
        let guestId = try fields.id("guestId"), restaurantId = try fields.id("restaurantId")
        try Access.requireRestaurant(caller, restaurantId)
        return try await apply(.createCard(guestId: guestId, restaurantId: restaurantId), request, caller, body) { outcome in
            guard case .cardCreated(let cardId, _, _, _) = outcome else { return .init(status: 500, body: "{}") }
            return .init(status: 201, body: JSONValue.object(["cardId": .string(cardId)]).jsonString)
        }
    }

    private func nameRestaurant(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        try Access.requireStaff(caller)
        let restaurantId = try context.parameters.require("id")
        guard ChannelName.isValidID(restaurantId) else { throw APIError.badRequest("invalid restaurant id") }
        try Access.requireRestaurant(caller, restaurantId)
        let body = try await request.body.collect(upTo: PointsEndpoint.maxBodySize)
        let name = try RequestFields(body: body).text("name", length: 1...200)
        return try await apply(.nameRestaurant(restaurantId: restaurantId, name: name), request, caller, body) { _ in
            .init(status: 200, body: JSONValue.object(["restaurantId": .string(restaurantId), "name": .string(name)]).jsonString)
        }
    }

    private func raiseAlert(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        guard caller.role == .admin else { throw APIError.forbidden("alerts are for admins") }
        let body = try await request.body.collect(upTo: PointsEndpoint.maxBodySize)
        let fields = try RequestFields(body: body)
        let level = try fields.string("level")
        guard ["info", "warning", "critical"].contains(level) else {
            throw APIError.badRequest("level must be info, warning or critical")
        }
        let message = try fields.text("message", length: 1...1000)
        return try await apply(.raiseAlert(level: level, message: message), request, caller, body) { _ in
            .init(status: 202, body: #"{"accepted":true}"#)
        }
    }

    /// 403 before 400 (SPEC 5.1): a restaurant account naming another restaurant is refused before
    /// the rest of its body is checked. The full check, on the validated id, follows the fields.
    private func requireNamedRestaurant(_ caller: Identity, _ fields: RequestFields) throws {
        if let named = fields.rawString("restaurantId") { try Access.requireRestaurant(caller, named) }
    }

    /// Runs a write with the caller's `Idempotency-Key`, answering the stored response on a replay.
    private func apply(
        _ write: LedgerWrite,
        _ request: Request,
        _ caller: Identity,
        _ body: ByteBuffer,
        render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> Response {
        let key = try idempotencyKey(request, caller, body)
        let reply = try await ledger.apply(write, idempotency: key, render: render)
        return json(reply.response.status, reply.response.body)
    }

    private func idempotencyKey(_ request: Request, _ caller: Identity, _ body: ByteBuffer) throws -> IdempotencyKey? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard (1...200).contains(key.count) else { throw APIError.badRequest("Idempotency-Key must be 1 to 200 characters") }
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method) \(request.uri.path)\n".utf8))
        hasher.update(data: Array(body.readableBytesView))
        let fingerprint = hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return IdempotencyKey(scope: caller.userId, key: key, fingerprint: fingerprint)
    }

    // MARK: Reads

    private func balance(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        let guestId = try context.parameters.require("id")
        try Access.requireReader(caller, guestId: guestId)
        let balance = try await ledger.balance(guestId: guestId)
        return json(200, JSONValue.object(["guestId": .string(guestId), "balance": .number(Double(balance))]).jsonString)
    }

    private func transactions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        let guestId = try context.parameters.require("id")
        try Access.requireReader(caller, guestId: guestId)
        let query = request.uri.queryParameters
        var limit = 50
        if let text = query.get("limit") {
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError(.badRequest, "invalid_query", "limit must be a whole number from 1 to 200")
            }
            limit = value
        }
        var before: Int64?
        if let cursor = query.get("cursor") {
            guard let seq = Cursor.decode(cursor) else { throw APIError(.badRequest, "invalid_query", "invalid cursor") }
            before = seq
        }
        let page = try await ledger.transactions(guestId: guestId, limit: limit, before: before)
        return json(200, JSONValue.object([
            "guestId": .string(guestId),
            "transactions": .array(page.transactions.map(\.json)),
            "nextCursor": page.next.map { .string(Cursor.encode($0)) } ?? .null,
        ]).jsonString)
    }

    /// Counted over every node through the adapter's fetchSockets (SPEC 5.1).
    private func presence(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        // `restaurant%3Ar1` is `restaurant:r1` too, as a browser's encodeURIComponent spells it.
        let raw = try context.parameters.require("room")
        let room = raw.removingPercentEncoding ?? raw
        guard let channel = ChannelName(room) else { throw APIError(.badRequest, "invalid_channel", "not a room name") }
        try Access.requirePresence(caller, channel)
        var counts = try await count(presence.fetchSockets(BroadcastOptions(rooms: [room])))
        counts["room"] = .string(room)
        return json(200, JSONValue.object(counts).jsonString)
    }

    /// The whole cluster, for admins: every connection, by node, and how many named rooms they hold.
    private func clusterPresence(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        guard caller.role == .admin else { throw APIError.forbidden("the cluster's presence is for admins") }
        let sockets = try await presence.fetchSockets(BroadcastOptions())
        var counts = try await count(sockets)
        // A socket's own id is a room too (Socket.IO's); only the named ones count here.
        let rooms = Set(sockets.flatMap { socket in socket.rooms.filter { $0 != socket.id } })
        counts["rooms"] = .number(Double(rooms.count))
        return json(200, JSONValue.object(counts).jsonString)
    }

    /// Sockets, distinct users, sockets per node and the nodes sharing the adapter.
    private func count(_ sockets: [SocketDetails]) async throws -> [String: JSONValue] {
        let users = Set(sockets.compactMap { $0.data["userId"]?.stringValue })
        var perNode: [String: Int] = [:]
        for socket in sockets { perNode[socket.data["nodeId"]?.stringValue ?? "unknown", default: 0] += 1 }
        let servers = (try? await presence.serverCount()) ?? 1
        return [
            "sockets": .number(Double(sockets.count)), "users": .number(Double(users.count)),
            "nodes": .object(perNode.mapValues { .number(Double($0)) }), "servers": .number(Double(servers)),
        ]
    }

    // MARK: Helpers

    private func authenticate(_ request: Request) async throws -> Identity {
        guard let token = TokenAuthority.bearerToken(request.headers[.authorization]) else { throw APIError.unauthorized }
        switch authority.verify(token) {
        case .success(let identity): return identity
        case .failure(let error): throw APIError(.unauthorized, "unauthorized", error.message)
        }
    }

    private func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The opaque page cursor: the `seq` to continue before, in base64url.
enum Cursor {
    private static let options: Base64.EncodingOptions = [.base64UrlAlphabet, .omitPaddingCharacter]

    static func encode(_ seq: Int64) -> String {
        Base64.encodeToString(bytes: Array("seq:\(seq)".utf8), options: options)
    }

    static func decode(_ text: String) -> Int64? {
        guard let bytes = try? Base64.decode(string: text, options: [.base64UrlAlphabet, .omitPaddingCharacter]) else {
            return nil
        }
        let plain = String(decoding: bytes, as: UTF8.self)
        guard plain.hasPrefix("seq:"), let seq = Int64(plain.dropFirst(4)), seq > 0 else { return nil }
        return seq
    }
}
