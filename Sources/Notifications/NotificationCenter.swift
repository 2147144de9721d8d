import HeraldAuth
import NIOConcurrencyHelpers
import SocketIO
import Vocabulary

/// One kept notification (SPEC section 4): `{id, event, payload, read, timestamp}`, `id` being the event's `eventId`.
public struct StoredNotification: Sendable, Equatable {
    public var id: String
    public var event: String
    public var payload: JSONValue
    public var read: Bool
    public var timestamp: Int64

    public init(id: String, event: String, payload: JSONValue, read: Bool = false, timestamp: Int64) {
        self.id = id
        self.event = event
        self.payload = payload
        self.read = read
        self.timestamp = timestamp
    }

    public var json: JSONValue {
        ["id": .string(id), "event": .string(event), "payload": payload, "read": .bool(read),
         "timestamp": .number(Double(timestamp))]
    }
}

/// Whose notification center a socket reads and where its changes are pushed (SPEC section 4):
/// a guest its own (pushed to `user:<sub>`), a restaurant account its restaurant's, admins theirs.
public struct NotificationCenterID: Hashable, Sendable {
    /// The room whose events the center keeps; also the center's key in the store.
    public let room: String
    /// The room that hears `notification_updated`.
    public let pushRoom: String

    public init(for identity: Identity) {
        switch identity.role {
        case .guest:
            room = ChannelName.guest(identity.userId).description
            pushRoom = ChannelName.user(identity.userId).description
        case .restaurant:
            room = ChannelName.restaurant(identity.restaurantId ?? "").description
            pushRoom = room
        case .admin:
            room = ChannelName.admin.description
            pushRoom = room
        }
    }

    /// The centers that keep an event sent to `room`, if any: guest, restaurant and admin rooms.
    public static func keeps(room: String) -> Bool {
        guard let channel = ChannelName(room) else { return false }
        return channel.kind != .user
    }
}

/// Where notification centers live: in memory under `serve`, in Redis in a cluster.
public protocol NotificationStore: Sendable {
    /// Keeps `notification` in the center of `room` (the newest 100 are kept).
    func record(_ notification: StoredNotification, room: String) async throws
    /// Newest first.
    func list(room: String) async throws -> [StoredNotification]
    /// The new unread count, or nil when `id` is unknown.
    func markRead(room: String, id: String) async throws -> Int?
    func markAllRead(room: String) async throws -> Int
    /// The new unread count, or nil when `id` is unknown.
    func delete(room: String, id: String) async throws -> Int?
    /// Keeps each notification in the center of its room, in order.
    func record(_ batch: [(notification: StoredNotification, room: String)]) async throws
}

extension NotificationStore {
    /// One after the other; a store that can pipeline does better.
    public func record(_ batch: [(notification: StoredNotification, room: String)]) async throws {
        for (notification, room) in batch { try await record(notification, room: room) }
    }
}

/// A store that records without suspending (in memory), so that the outbox relay's events go
/// from the commit to the sockets on the committing thread.
public protocol ImmediateNotificationStore: NotificationStore {
    func recordNow(_ batch: [(notification: StoredNotification, room: String)])
}

/// The embedded notification store of `herald serve`.
///
/// A lock, not an actor: recording is the publishing path of every points event, and an actor
/// costs a hop onto its executor and back for a few hundred nanoseconds of work.
public final class MemoryNotificationStore: ImmediateNotificationStore {
    public static let capacity = 100

    /// One center: its notifications oldest first (a new one is appended, the oldest dropped),
    /// and their ids, so that recording does not compare an id with each kept one (the scan
    /// was 5 % of `herald serve`'s CPU at 2,000 events a second).
    struct Center {
        var items: [StoredNotification] = []
        var ids: Set<String> = []

        mutating func append(_ notification: StoredNotification) {
            guard ids.insert(notification.id).inserted else { return }
            items.append(notification)
            if items.count > MemoryNotificationStore.capacity {
                for dropped in items.prefix(items.count - MemoryNotificationStore.capacity) { ids.remove(dropped.id) }
                items.removeFirst(items.count - MemoryNotificationStore.capacity)
            }
        }

        mutating func remove(at index: Int) {
            ids.remove(items.remove(at: index).id)
        }

        var unreadCount: Int { items.count { !$0.read } }
    }

    private let centers = NIOLockedValueBox<[String: Center]>([:])

    public init() {}

    public func record(_ notification: StoredNotification, room: String) {
        recordNow([(notification, room)])
    }

    public func record(_ batch: [(notification: StoredNotification, room: String)]) {
        recordNow(batch)
    }

    public func recordNow(_ batch: [(notification: StoredNotification, room: String)]) {
        centers.withLockedValue { centers in
            // In place: a copy taken out of the dictionary would copy the whole center on append.
            for (notification, room) in batch { centers[room, default: Center()].append(notification) }
        }
    }

    public func list(room: String) -> [StoredNotification] {
        centers.withLockedValue { $0[room]?.items.reversed() ?? [] }
    }

    public func markRead(room: String, id: String) -> Int? {
        centers.withLockedValue { centers in
            guard let index = centers[room]?.items.firstIndex(where: { $0.id == id }) else { return nil }
            centers[room]?.items[index].read = true
            return centers[room]?.unreadCount
        }
    }

    public func markAllRead(room: String) -> Int {
        centers.withLockedValue { centers in
            guard let count = centers[room]?.items.count else { return 0 }
            for index in 0..<count { centers[room]?.items[index].read = true }
            return 0
        }
    }

    public func delete(room: String, id: String) -> Int? {
        centers.withLockedValue { centers in
            guard let index = centers[room]?.items.firstIndex(where: { $0.id == id }) else { return nil }
            centers[room]?.remove(at: index)
            return centers[room]?.unreadCount
        }
    }
}

/// Keeps each published event in the notification centers of its rooms, then broadcasts it:
/// the publisher's side of the center (the points API's outbox relay under `herald serve`).
public struct NotificationRecorder: Broadcaster {
    let next: any Broadcaster
    let store: any NotificationStore

    public init(next: any Broadcaster, store: any NotificationStore) {
        self.next = next
        self.store = store
    }

    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        // Recorded first, so a client that syncs as soon as the event arrives finds it.
        for (notification, room) in Self.notifications(of: packet, options: options) {
            try await store.record(notification, room: room)
        }
        try await next.broadcast(packet, options: options)
    }

    /// The whole batch recorded (pipelined where the store can), then handed on as a batch: the
    /// outbox relay's events cost no round trip each (one each was its limit in a cluster).
    public func broadcast(_ batch: [Broadcast]) async throws {
        do {
            try await store.record(batch.flatMap { Self.notifications(of: $0.packet, options: $0.options) })
        } catch {
            throw BatchBroadcastError(handedOn: 0, underlying: error)
        }
        try await next.broadcast(batch)
    }

    /// In memory all the way (`herald serve`): recorded and delivered on the calling thread.
    public var immediate: (any ImmediateBroadcaster)? {
        guard let next = next.immediate, let store = store as? any ImmediateNotificationStore else { return nil }
        return ImmediateRecorder(next: next, store: store)
    }

    /// What a broadcast leaves in notification centers: the event, in each center-keeping room.
    static func notifications(of packet: SocketIOPacket, options: BroadcastOptions) -> [(notification: StoredNotification, room: String)] {
        guard let event = packet.eventName, let payload = packet.eventArguments.first,
              let eventId = payload["eventId"]?.stringValue
        else { return [] }
        // Any number may arrive; one that is no exact Int64 (1e300, 2.5) is no timestamp.
        var timestamp: Int64 = 0
        if case .number(let value)? = payload["timestamp"], let exact = Int64(exactly: value) { timestamp = exact }
        let notification = StoredNotification(id: eventId, event: event, payload: payload, timestamp: timestamp)
        return options.rooms.filter(NotificationCenterID.keeps(room:)).sorted().map { (notification, $0) }
    }
}

/// `NotificationRecorder` when its store and its next broadcaster are both immediate.
struct ImmediateRecorder: ImmediateBroadcaster {
    let next: any ImmediateBroadcaster
    let store: any ImmediateNotificationStore

    func broadcastNow(_ batch: [Broadcast]) {
        store.recordNow(batch.flatMap { NotificationRecorder.notifications(of: $0.packet, options: $0.options) })
        next.broadcastNow(batch)
    }
}
