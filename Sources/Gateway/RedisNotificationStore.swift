import NIOCore
import RedisClient
import SocketIO

/// The notification centers of a cluster, in Redis, so every gateway sees the same state
/// (SPEC section 4): per center a hash `id -> notification JSON` and a sorted set ordering the
/// ids by time, under one hash tag so both keys share a Redis Cluster slot. Each change is one
/// Lua script, so concurrent tabs on different gateways cannot interleave half-changes.
public struct RedisNotificationStore: NotificationStore {
    private let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    private func keys(_ room: String) -> [String] {
        ["herald:{notifications:\(room)}:items", "herald:{notifications:\(room)}:order"]
    }

    public func record(_ notification: StoredNotification, room: String) async throws {
        try await record([(notification, room)])
    }

    /// Every script of the batch pipelined on the one connection (Redis runs them in order).
    public func record(_ batch: [(notification: StoredNotification, room: String)]) async throws {
        let commands = batch.map { notification, room in
            Self.evalCommand(Self.recordScript, keys(room), [
                notification.id, notification.json.jsonString, String(notification.timestamp),
                String(MemoryNotificationStore.capacity),
            ])
        }
        for result in await client.send(commands) { _ = try result.get() }
    }

    public func list(room: String) async throws -> [StoredNotification] {
        let reply = try await eval(Self.listScript, keys(room), [String(MemoryNotificationStore.capacity)])
        return (reply.array ?? []).compactMap { item in
            item.string.flatMap { JSONValue(parsing: $0) }.flatMap(StoredNotification.init(json:))
        }
    }

    public func markRead(room: String, id: String) async throws -> Int? {
        unreadCount(try await eval(Self.changeScript, keys(room), ["read", id]))
    }

    public func markAllRead(room: String) async throws -> Int {
        unreadCount(try await eval(Self.changeScript, keys(room), ["read_all", ""])) ?? 0
    }

    public func delete(room: String, id: String) async throws -> Int? {
        unreadCount(try await eval(Self.changeScript, keys(room), ["delete", id]))
    }

    /// The scripts answer the new unread count, or -1 for an unknown id.
    private func unreadCount(_ reply: RESPValue) -> Int? {
        guard let count = reply.integer, count >= 0 else { return nil }
        return Int(count)
    }

    private func eval(_ script: String, _ keys: [String], _ arguments: [String]) async throws -> RESPValue {
        try await client.send(Self.evalCommand(script, keys, arguments))
    }

    private static func evalCommand(_ script: String, _ keys: [String], _ arguments: [String]) -> RedisCommand {
        RedisCommand((["EVAL", script, String(keys.count)] + keys + arguments).map { ByteBuffer(string: $0) })
    }

    /// KEYS: items, order. ARGV: id, json, timestamp, capacity. Keeps a replayed event once and
    /// the newest `capacity` only.
    static let recordScript = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
        local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
        if excess > 0 then
            local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
            redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
            redis.call('HDEL', KEYS[1], unpack(old))
        end
        return 1
        """

    /// KEYS: items, order. ARGV: capacity. Newest first.
    static let listScript = """
        local ids = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
        if #ids == 0 then return {} end
        return redis.call('HMGET', KEYS[1], unpack(ids))
        """

    /// KEYS: items, order. ARGV: action (read, read_all, delete), id.
    static let changeScript = """
        local action, id = ARGV[1], ARGV[2]
        if action == 'read' then
            local item = redis.call('HGET', KEYS[1], id)
            if not item then return -1 end
            local notification = cjson.decode(item)
            notification.read = true
            redis.call('HSET', KEYS[1], id, cjson.encode(notification))
        elseif action == 'delete' then
            if redis.call('HDEL', KEYS[1], id) == 0 then return -1 end
            redis.call('ZREM', KEYS[2], id)
        else
            local all = redis.call('HGETALL', KEYS[1])
            for index = 1, #all, 2 do
                local notification = cjson.decode(all[index + 1])
                if not notification.read then
                    notification.read = true
                    redis.call('HSET', KEYS[1], all[index], cjson.encode(notification))
                end
            end
        end
        local unread = 0
        for _, item in ipairs(redis.call('HVALS', KEYS[1])) do
            if not cjson.decode(item).read then unread = unread + 1 end
        end
        return unread
        """
}

extension StoredNotification {
    /// Reads back what `json` wrote.
    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let event = json["event"]?.stringValue,
              case .number(let timestamp)? = json["timestamp"]
        else { return nil }
        self.init(id: id, event: event, payload: json["payload"] ?? .null, read: json["read"] == .bool(true),
                  timestamp: Int64(timestamp))
    }
}
