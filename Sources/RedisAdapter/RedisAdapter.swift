import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import SocketIO

/// The `Adapter` of a gateway in a cluster, on the wire the same as the Node
/// `@socket.io/redis-adapter`: a Node socket.io server or emitter on the same Redis interoperates.
///
/// It wraps the node's `LocalAdapter`: a broadcast is delivered here and published for the
/// others; what the others publish is decoded once and delivered here. Requests (fetch sockets,
/// all rooms, remote join / leave / disconnect) go on the request channel as JSON and are
/// answered on the response channel. A `Service`: it runs its publisher and subscriber
/// connections, which reconnect and resubscribe by themselves.
public final class RedisAdapter: Adapter, Service {
    public let uid: String
    public let local: LocalAdapter
    public let channels: RedisChannels
    private let publisher: RedisClient
    private let subscriber: RedisSubscriber
    private let requests: ClusterRequests

    /// How long a request waits for the other nodes (the Node adapter's `requestsTimeout`).
    public static let requestsTimeout = Duration.seconds(5)

    public init(url: RedisURL, local: LocalAdapter, group: any EventLoopGroup, logger: Logger) {
        let uid = ClusterRequests.makeUID()
        let channels = RedisChannels()
        let publisher = RedisClient(url: url, group: group, logger: logger, name: "publisher")
        let requests = ClusterRequests(uid: uid, channels: channels, local: local, publisher: publisher, logger: logger)
        self.uid = uid
        self.local = local
        self.channels = channels
        self.publisher = publisher
        self.requests = requests
        self.subscriber = RedisSubscriber(
            url: url,
            group: group,
            subscriptions: [
                .pattern(channels.broadcast + "*"),
                .channel(channels.request), .channel(channels.response), .channel(channels.response(for: uid)),
            ],
            logger: logger
        ) { message in
            requests.handle(message)
        }
    }

    /// Ready when both connections are up and subscribed (`/readyz`).
    public var isReady: Bool { publisher.isConnected && subscriber.isSubscribed }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.publisher.run() }
            group.addTask { try await self.subscriber.run() }
        }
    }

    // MARK: Adapter

    /// Delivers to this node's sockets, then publishes for the others (unless `local`).
    /// A gateway keeps delivering to its own sockets while Redis is down; the error tells the caller
    /// that the other nodes missed it.
    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        local.deliver(packet, options: options)
        guard !options.flags.local else { return }
        let message = RedisBroadcast(uid: uid, packet: packet, options: options).encoded()
        try await publisher.publish(message, to: channels.channel(forRooms: options.rooms))
    }

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws {
        try await local.addSockets(options, rooms: rooms)
        guard !options.flags.local else { return }
        try await requests.publish(ClusterRequest(type: .remoteJoin, uid: uid, options: options, rooms: rooms.sorted()))
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws {
        try await local.delSockets(options, rooms: rooms)
        guard !options.flags.local else { return }
        try await requests.publish(ClusterRequest(type: .remoteLeave, uid: uid, options: options, rooms: rooms.sorted()))
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) async throws {
        try await local.disconnectSockets(options, close: close)
        guard !options.flags.local else { return }
        try await requests.publish(ClusterRequest(type: .remoteDisconnect, uid: uid, options: options, close: close))
    }

    /// This node's sockets and those every other node reports (REMOTE_FETCH).
    public func fetchSockets(_ options: BroadcastOptions) async throws -> [SocketDetails] {
        let mine = try await local.fetchSockets(options)
        guard !options.flags.local else { return mine }
        let responses = try await requests.ask(.remoteFetch, options: options)
        return mine + responses.flatMap { response in
            guard case .array(let sockets)? = response["sockets"] else { return [SocketDetails]() }
            return sockets.compactMap(SocketDetails.init(json:))
        }
    }

    /// Every room with members on any node (ALL_ROOMS).
    public func allRooms() async throws -> Set<String> {
        var rooms = try await local.roomNames()
        for response in try await requests.ask(.allRooms, options: nil) {
            rooms.formUnion(ClusterRequest.strings(response["rooms"]))
        }
        return rooms
    }

    /// How many nodes listen on the request channel (PUBSUB NUMSUB), this one included.
    public func serverCount() async throws -> Int {
        try await requests.serverCount()
    }

    /// Emits an event to the other server nodes (SERVER_SIDE_EMIT, without acknowledgement).
    public func serverSideEmit(_ event: String, _ arguments: [JSONValue]) async throws {
        try await requests.publish(ClusterRequest(type: .serverSideEmit, uid: uid, data: [.string(event)] + arguments))
    }
}
