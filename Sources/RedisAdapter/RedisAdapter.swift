import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import SocketIO
import Vocabulary

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
    /// Connection state recovery (SPEC section 4.1), when it is on.
    public let recovery: RedisRecovery?

    /// How long a request waits for the other nodes (the Node adapter's `requestsTimeout`).
    public static let requestsTimeout = Duration.seconds(5)

    /// `recovery`'s connection is this adapter's to run: it is a `Service` only through the adapter.
    public init(url: RedisURL, local: LocalAdapter, group: any EventLoopGroup, logger: Logger, recovery: RedisRecovery? = nil) {
        let uid = ClusterRequests.makeUID()
        let channels = RedisChannels()
        let publisher = RedisClient(url: url, group: group, logger: logger, name: "publisher")
        let requests = ClusterRequests(uid: uid, channels: channels, local: local, publisher: publisher, logger: logger)
        let broadcasts = IncomingBroadcasts(uid: uid, local: local, recovery: recovery, logger: logger)
        self.uid = uid
        self.local = local
        self.channels = channels
        self.publisher = publisher
        self.requests = requests
        self.recovery = recovery
        self.subscriber = RedisSubscriber(
            url: url,
            group: group,
            subscriptions: [
                .pattern(channels.broadcast + "*"),
                .channel(channels.request), .channel(channels.response), .channel(channels.response(for: uid)),
            ],
            logger: logger
        ) { message in
            let channel = String(buffer: message.channel)
            if channel.hasPrefix(channels.broadcast) {
                broadcasts.receive(message, on: channel)
            } else {
                requests.handle(message, on: channel)
            }
        }
    }

    /// Ready when its connections are up and subscribed (`/readyz`).
    public var isReady: Bool { publisher.isConnected && subscriber.isSubscribed && (recovery?.client.isConnected ?? true) }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.publisher.run() }
            group.addTask { try await self.subscriber.run() }
            if let recovery {
                group.addTask { try await recovery.client.run() }
                group.addTask { await self.keepSessions(recovery) }
            }
        }
    }

    /// Starts the recovery high-water mark once subscribed, then saves every connected socket's
    /// session each `refreshInterval`, so sessions outlive a gateway killed with SIGKILL by at
    /// least the window, and come back after Redis lost them (a restart).
    ///
    /// It ends with the node's graceful shutdown: it did not (it only heard cancellation, which
    /// a graceful shutdown never sends), and a gateway with recovery on never exited on SIGTERM.
    private func keepSessions(_ recovery: RedisRecovery) async {
        func running() -> Bool { !Task.isShuttingDownGracefully && !Task.isCancelled }
        while running() {
            if subscriber.isSubscribed, recovery.client.isConnected, (try? await recovery.catchUp()) != nil { break }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
        while running() {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: recovery.refreshInterval) }
            guard running() else { return }
            let sessions = await local.recoverableSessions()
            for start in stride(from: 0, to: sessions.count, by: 1_000) {
                try? await recovery.save(Array(sessions[start..<min(start + 1_000, sessions.count)]))
            }
        }
    }

    // MARK: Adapter

    /// Delivers to this node's sockets, then publishes for the others (unless `local`).
    /// A gateway keeps delivering to its own sockets while Redis is down; the error tells the caller
    /// that the other nodes missed it.
    ///
    /// With recovery, a recoverable event is published first, through the script that gives it
    /// its offset, and delivered here when it comes back from Redis, in the order of offsets all
    /// nodes share; while Redis is down it is delivered here without one.
    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        if let recovery, packet.isRecoverable(options) {
            let outgoing = RedisRecovery.Outgoing(
                broadcast: RedisBroadcast(uid: uid, packet: packet, options: options),
                channel: channels.channel(forRooms: options.rooms), asEmitter: false
            )
            do {
                try await recovery.publish([outgoing])
            } catch {
                local.deliver(packet, options: options)
                throw error
            }
            return
        }
        local.deliver(packet, options: options)
        guard !options.flags.local else { return }
        let message = RedisBroadcast(uid: uid, packet: packet, options: options).encoded()
        await publisher.awaitResubscriptions()
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
