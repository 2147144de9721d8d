import Logging
import MessagePack
import NIOCore
import RedisClient
import SocketIO
import Vocabulary

/// Both ends of the request channel: answering what other nodes ask of this one, and asking them.
final class ClusterRequests: Sendable {
    private let uid: String
    private let channels: RedisChannels
    private let local: LocalAdapter
    private let publisher: RedisClient
    private let logger: Logger
    private let pending = PendingRequests()

    init(uid: String, channels: RedisChannels, local: LocalAdapter, publisher: RedisClient, logger: Logger) {
        self.uid = uid
        self.channels = channels
        self.local = local
        self.publisher = publisher
        self.logger = logger
    }

    /// Six random alphanumerics, like the `uid2(6)` of the Node adapter.
    static func makeUID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<6).map { _ in alphabet[Int.random(in: alphabet.indices)] })
    }

    // MARK: Incoming (on the subscriber's event loop)

    /// A message on the request or response channels (broadcasts go to `IncomingBroadcasts`).
    func handle(_ message: RedisMessage, on channel: String) {
        if channel.hasPrefix(channels.response) {
            guard let response = Self.decode(message.payload) else { return }
            Task { await pending.receive(response) }
        } else if channel == channels.request {
            guard let json = Self.decode(message.payload), let request = ClusterRequest(json: json) else {
                // BROADCAST requests that wait for acks are MessagePack: Herald does not relay them.
                if message.payload.readableBytesView.first != UInt8(ascii: "{"), (try? MessagePackValue(decoding: message.payload)) != nil {
                    return
                }
                logger.warning("[Redis] Dropped a malformed request (\(message.payload.readableBytes) bytes)")
                return
            }
            Task { await answer(request) }
        }
    }

    /// A request is JSON when its first byte is `{`, else MessagePack (BROADCAST with acks).
    static func decode(_ payload: ByteBuffer) -> JSONValue? {
        guard payload.readableBytesView.first == UInt8(ascii: "{") else { return nil }
        return JSONValue(parsing: String(buffer: payload))
    }

    private func answer(_ request: ClusterRequest) async {
        do {
            switch request.type {
            case .sockets:
                guard request.uid != uid, let requestId = request.requestId else { return }
                let sockets = try await local.fetchSockets(BroadcastOptions(rooms: Set(request.rooms)))
                try await respond(["requestId": .string(requestId), "sockets": .array(sockets.map { .string($0.id) })])
            case .allRooms:
                guard request.uid != uid, let requestId = request.requestId else { return }
                let rooms = try await local.roomNames()
                try await respond(["requestId": .string(requestId), "rooms": .array(rooms.sorted().map(JSONValue.string))])
            case .remoteFetch:
                guard request.uid != uid, let requestId = request.requestId else { return }
                let sockets = try await local.fetchSockets(request.options ?? BroadcastOptions())
                try await respond(["requestId": .string(requestId), "sockets": .array(sockets.map(\.json))])
            case .remoteJoin:
                guard request.uid != uid, let options = request.options else { return }
                try await local.addSockets(options, rooms: Set(request.rooms))
            case .remoteLeave:
                guard request.uid != uid, let options = request.options else { return }
                try await local.delSockets(options, rooms: Set(request.rooms))
            case .remoteDisconnect:
                guard request.uid != uid, let options = request.options else { return }
                try await local.disconnectSockets(options, close: request.close)
            case .serverSideEmit:
                guard request.uid != uid else { return }
                // Herald has no server-side event handlers; an emit that waits for acks gets one
                // empty answer from this node rather than a timeout.
                logger.debug("[Redis] Server-side emit \(request.data.first?.stringValue ?? "?") from \(request.uid ?? "?")")
                if let requestId = request.requestId {
                    try await respond(["type": .number(Double(RequestType.serverSideEmit.rawValue)),
                                       "requestId": .string(requestId), "data": .null])
                }
            case .broadcast, .broadcastClientCount, .broadcastAck:
                // Broadcasts that wait for client acknowledgements are not relayed (docs/redis-protocol.md).
                return
            }
        } catch {
            logger.warning("[Redis] Could not answer a \(request.type) request: \(error)")
        }
    }

    private func respond(_ response: JSONValue) async throws {
        try await publisher.publish(ByteBuffer(string: response.jsonString), to: channels.response)
    }

    // MARK: Outgoing

    func publish(_ request: ClusterRequest) async throws {
        try await publisher.publish(ByteBuffer(string: request.json.jsonString), to: channels.request)
    }

    /// Asks every other node and returns their answers (those that came within the timeout).
    func ask(_ type: RequestType, options: BroadcastOptions?) async throws -> [JSONValue] {
        let others = try await serverCount() - 1
        guard others > 0 else { return [] }
        let requestId = Self.makeUID() + Self.makeUID()
        let request = ClusterRequest(type: type, uid: uid, requestId: requestId, options: options)
        let responses = try await pending.collect(requestId: requestId, expected: others, timeout: RedisAdapter.requestsTimeout) {
            try await self.publish(request)
        }
        if responses.count < others {
            logger.warning("[Redis] \(type) request: \(responses.count) of \(others) nodes answered in time")
        }
        return responses
    }

    func serverCount() async throws -> Int {
        let reply = try await publisher.send(RedisCommand("PUBSUB", "NUMSUB", channels.request))
        guard let items = reply.array, items.count == 2, let count = items[1].integer else { return 1 }
        return max(1, Int(count))
    }
}
