import EngineIO
import HeraldAuth
import Logging
import NIOCore
import Notifications
import SocketIO
import Vocabulary

/// The product side of one socket: its rooms, its event budget and its client events (SPEC sections 3 and 4).
///
/// Lives on the socket's event loop, like the socket. The socket owns it (as its delegate, until it
/// disconnects); it keeps no reference back: each call brings its socket, and an answer computed
/// off the loop holds it until then, so one that comes after the client left finds the socket
/// disconnected and is dropped. (A weak reference would do the same, but gives the socket a
/// side table, which every retain of it then goes through: a fan-out's hottest path.)
final class GatewaySocket: SocketDelegate {
    let identity: Identity
    private let namespace: GatewayNamespace
    private var limiter: RateLimiter

    init(socket: SocketIOSocket, identity: Identity, namespace: GatewayNamespace) {
        self.identity = identity
        self.namespace = namespace
        self.limiter = RateLimiter(now: socket.eventLoop.now)
    }

    // Derived from the identity when needed rather than kept: every idle connection would carry
    // them (heaptrack counted each stored string and array per socket).
    private var automaticRooms: [String] { RoomPolicy.automaticRooms(for: identity).map(\.description) }
    private var center: NotificationCenterID { NotificationCenterID(for: identity) }
    var socketData: JSONValue { ["userId": .string(identity.userId), "nodeId": .string(namespace.nodeId)] }

    private var logger: Logger { namespace.logger }

    /// The log tag of the socket's transport: `[WebSocket]` or `[Polling]`.
    private static func transportLabel(_ socket: SocketIOSocket) -> String {
        socket.transportName == .websocket ? "WebSocket" : "Polling"
    }

    /// Joins the automatic rooms (a recovered socket is in them already, with its subscriptions)
    /// and emits `connected`; `recovered` tells the client whether it missed nothing (SPEC 4.1).
    func start(_ socket: SocketIOSocket, recovered: Bool) {
        let automaticRooms = self.automaticRooms
        for room in automaticRooms { socket.join(room) }
        let verb = recovered ? "reconnected, session recovered" : "connected"
        logger.info("[\(Self.transportLabel(socket))] User \(identity.userId) \(verb) (socket: \(socket.id))")
        var connected: JSONValue = [
            "socketId": .string(socket.id),
            "userId": .string(identity.userId),
            "role": .string(identity.role.rawValue),
            "rooms": .array(automaticRooms.map(JSONValue.string)),
            "nodeId": .string(namespace.nodeId),
        ]
        if socket.pid != nil, case .object(var fields) = connected {
            fields["recovered"] = .bool(recovered)
            connected = .object(fields)
        }
        socket.emit("connected", connected)
    }

    func socket(_ socket: SocketIOSocket, didDisconnectWith reason: String) {
        logger.info("[\(Self.transportLabel(socket))] User \(identity.userId) disconnected (socket: \(socket.id), reason: \(reason))")
    }

    func socket(
        _ socket: SocketIOSocket, didReceiveEvent name: String, arguments: [JSONValue], attachments: [ByteBuffer],
        ack: Acknowledgement?
    ) {
        switch limiter.admit(now: socket.eventLoop.now) {
        case .allow:
            break
        case .drop(let notify):
            if notify {
                let error = GatewayError(.rateLimited, "more than 100 events per second; events dropped")
                socket.emit("error", error.body)
            }
            return
        case .disconnect:
            logger.warning("[RateLimit] User \(identity.userId) disconnected after 10 s over the limit (socket: \(socket.id))")
            socket.disconnect(closeConnection: true)
            return
        }
        guard attachments.isEmpty else {
            return refuse(GatewayError(.binaryNotSupported, "\(name) takes no binary arguments"), ack: ack, socket: socket)
        }
        let payload = arguments.first ?? .null
        switch name {
        case "subscribe": subscribe(payload, socket: socket, ack: ack)
        case "unsubscribe": unsubscribe(payload, socket: socket, ack: ack)
        case "action": action(payload, ack: ack, socket: socket)
        case "sync": sync(ack: ack, socket: socket)
        default: logger.debug("[Event] \(identity.userId) sent unknown event \(name)")
        }
    }

    // MARK: Rooms

    /// Checks grammar, then authorization (SPEC section 3).
    private func channel(in payload: JSONValue) -> Result<ChannelName, GatewayError> {
        guard let text = payload["channel"]?.stringValue, let channel = ChannelName(text) else {
            return .failure(GatewayError(.invalidChannel, "channel must be admin or user:, guest:, restaurant: and an id"))
        }
        guard RoomPolicy.mayAccess(identity, channel) else {
            return .failure(GatewayError(.forbidden, "\(identity.role.rawValue) may not access \(channel)"))
        }
        return .success(channel)
    }

    private func subscribe(_ payload: JSONValue, socket: SocketIOSocket, ack: Acknowledgement?) {
        let channel: ChannelName
        switch self.channel(in: payload) {
        case .success(let value): channel = value
        case .failure(let error): return refuse(error, ack: ack, socket: socket)
        }
        let room = channel.description
        if !socket.isIn(room) {
            let automatic = automaticRooms
            let subscriptions = socket.roomList.count { !automatic.contains($0) }
            guard subscriptions < RoomPolicy.maxSubscriptions else {
                return refuse(GatewayError(.tooManyRooms, "at most \(RoomPolicy.maxSubscriptions) subscriptions"), ack: ack, socket: socket)
            }
            socket.join(room)
            logger.info("[Subscribe] \(identity.userId) joined \(room)")
        }
        ack?.send(["ok": true, "channel": .string(room)])
    }

    private func unsubscribe(_ payload: JSONValue, socket: SocketIOSocket, ack: Acknowledgement?) {
        let channel: ChannelName
        switch self.channel(in: payload) {
        case .success(let value): channel = value
        case .failure(let error): return refuse(error, ack: ack, socket: socket)
        }
        let room = channel.description
        if socket.isIn(room) {
            socket.leave(room)
            logger.info("[Unsubscribe] \(identity.userId) left \(room)")
        }
        ack?.send(["ok": true, "channel": .string(room)])
    }

    /// Every refusal answers the ack when one was asked for and emits `error` (SPEC section 3).
    private func refuse(_ error: GatewayError, ack: Acknowledgement?, socket: SocketIOSocket) {
        ack?.send(error.ackBody)
        socket.emit("error", error.body)
    }

    // MARK: Notification center

    private func sync(ack: Acknowledgement?, socket: SocketIOSocket) {
        let store = namespace.notifications
        let room = center.room
        socket.eventLoop.makeFutureWithTask {
            try await store.list(room: room)
        }.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let items):
                ack?.send([
                    "notifications": .array(items.map(\.json)),
                    "unreadCount": .number(Double(items.count { !$0.read })),
                ])
            case .failure:
                refuse(GatewayError(.unavailable, "the notification center is unavailable; try again"), ack: ack, socket: socket)
            }
        }
    }

    private enum CenterAction {
        case markRead(String)
        case markAllRead
        case delete(String)
    }

    private func action(_ payload: JSONValue, ack: Acknowledgement?, socket: SocketIOSocket) {
        let id = payload["id"]?.stringValue
        let action: CenterAction
        switch payload["type"]?.stringValue {
        case "mark_read": action = .markRead(id ?? "")
        case "mark_all_read": action = .markAllRead
        case "delete": action = .delete(id ?? "")
        default:
            return refuse(GatewayError(.unknownAction, "unknown action type"), ack: ack, socket: socket)
        }
        let store = namespace.notifications
        let broadcaster = namespace.broadcaster
        let center = self.center
        let logger = self.logger
        socket.eventLoop.makeFutureWithTask { () -> Int? in
            let unread: Int?
            var update: JSONValue
            switch action {
            case .markRead(let id):
                unread = try await store.markRead(room: center.room, id: id)
                update = ["id": .string(id), "read": true]
            case .markAllRead:
                unread = try await store.markAllRead(room: center.room)
                update = ["read": true]
            case .delete(let id):
                unread = try await store.delete(room: center.room, id: id)
                update = ["id": .string(id), "deleted": true]
            }
            guard let unread, case .object(var fields) = update else { return nil }
            fields["unreadCount"] = .number(Double(unread))
            update = .object(fields)
            // Every tab and device of the center hears the change (SPEC section 4). The change is
            // made whether or not the other nodes could be told (the cluster adapter still
            // delivered it on this node), so a failed publish is logged, not refused.
            do {
                try await broadcaster.broadcast(
                    .event("notification_updated", [update]),
                    options: BroadcastOptions(rooms: [center.pushRoom])
                )
            } catch {
                logger.warning("[Notifications] Change in \(center.room) not published to the other nodes: \(error)")
            }
            return unread
        }.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let unread?):
                ack?.send(["ok": true, "unreadCount": .number(Double(unread))])
            case .success(nil):
                refuse(GatewayError(.notFound, "no such notification"), ack: ack, socket: socket)
            case .failure:
                refuse(GatewayError(.unavailable, "the notification center is unavailable; try again"), ack: ack, socket: socket)
            }
        }
    }
}
