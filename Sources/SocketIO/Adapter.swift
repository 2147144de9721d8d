import Vocabulary

/// Which sockets a broadcast or a cluster request is for: `@socket.io/redis-adapter`'s
/// `{rooms, except, flags}`.
public struct BroadcastOptions: Sendable, Hashable {
    /// Members of any of these rooms; every socket when empty.
    public var rooms: Set<String>
    /// Members of any of these rooms are left out.
    public var except: Set<String>
    public var flags: BroadcastFlags

    public init(rooms: Set<String> = [], except: Set<String> = [], flags: BroadcastFlags = BroadcastFlags()) {
        self.rooms = rooms
        self.except = except
        self.flags = flags
    }
}

/// The broadcast flags Socket.IO carries between nodes.
public struct BroadcastFlags: Sendable, Hashable {
    /// May be dropped for a socket that is not ready for it.
    public var volatile = false
    /// Deliver on this node only, do not forward to others.
    public var local = false
    /// Compression hint; Herald does not compress, but keeps the flag on the wire.
    public var compress: Bool?

    public init(volatile: Bool = false, local: Bool = false, compress: Bool? = nil) {
        self.volatile = volatile
        self.local = local
        self.compress = compress
    }
}

/// What `fetchSockets` reports of a socket (the Node adapter's `SocketDetails`).
public struct SocketDetails: Sendable, Hashable {
    public var id: String
    public var rooms: Set<String>
    public var data: JSONValue

    public init(id: String, rooms: Set<String>, data: JSONValue) {
        self.id = id
        self.rooms = rooms
        self.data = data
    }
}

/// Sends events to rooms: all a publisher (the points API's outbox) needs.
public protocol Broadcaster: Sendable {
    /// Delivers `packet` once to every socket selected by `options`; throws when it could not be handed on.
    func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws
    /// Hands on every broadcast of `batch`, in order; when it fails part way it throws a
    /// `BatchBroadcastError` that tells how many went out first.
    func broadcast(_ batch: [Broadcast]) async throws
    /// The same broadcaster's synchronous form, when it has one (in-process delivery): the
    /// outbox relay then publishes a commit's events from the committing thread, with no task hop.
    var immediate: (any ImmediateBroadcaster)? { get }
}

/// Hands a batch on at once, on the calling thread, without blocking and without failing: in
/// order, before it returns (delivery itself goes on on the sockets' event loops).
public protocol ImmediateBroadcaster: Sendable {
    func broadcastNow(_ batch: [Broadcast])
}

/// One broadcast of a batch.
public struct Broadcast: Sendable {
    public var packet: SocketIOPacket
    public var options: BroadcastOptions
    /// The event's own id (the payload's `eventId`), by which a publisher that keeps track can
    /// publish a batch sent twice only once.
    public var eventId: String?

    public init(_ packet: SocketIOPacket, options: BroadcastOptions, eventId: String? = nil) {
        self.packet = packet
        self.options = options
        self.eventId = eventId
    }
}

/// A batch stopped part way: the first `handedOn` broadcasts went out, the rest did not.
public struct BatchBroadcastError: Error {
    public var handedOn: Int
    public var underlying: any Error

    public init(handedOn: Int, underlying: any Error) {
        self.handedOn = handedOn
        self.underlying = underlying
    }
}

extension Broadcaster {
    /// Most broadcasters have to wait for a peer (Redis) before a broadcast counts as handed on.
    public var immediate: (any ImmediateBroadcaster)? { nil }

    /// One after the other; a broadcaster that can pipeline does better.
    public func broadcast(_ batch: [Broadcast]) async throws {
        for (index, item) in batch.enumerated() {
            do {
                try await broadcast(item.packet, options: item.options)
            } catch {
                throw BatchBroadcastError(handedOn: index, underlying: error)
            }
        }
    }
}

/// The seam between a Socket.IO server and its peers (socket.io-adapter's `Adapter`).
///
/// `LocalAdapter` serves one process; a cluster adapter forwards each call to the other nodes and
/// applies it locally through a `LocalAdapter`.
public protocol Adapter: Broadcaster {
    /// Makes the selected sockets join `rooms`.
    func addSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws
    /// Makes the selected sockets leave `rooms`.
    func delSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws
    /// Disconnects the selected sockets; `close` also closes their Engine.IO connection.
    func disconnectSockets(_ options: BroadcastOptions, close: Bool) async throws
    /// Describes the selected sockets.
    func fetchSockets(_ options: BroadcastOptions) async throws -> [SocketDetails]
    /// How many server nodes share this adapter.
    func serverCount() async throws -> Int
}
