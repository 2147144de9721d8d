import NIOCore
import RedisClient
import SocketIO
import Vocabulary

/// The notification centers of a cluster, in Redis, so every gateway sees the same state
/// (SPEC section 4). Per center, under one hash tag so every key shares a Redis Cluster slot:
/// a hash `id -> notification JSON` as recorded, a sorted set ordering the ids by when they were
/// recorded (a counter, as the memory store keeps its list in recording order; a timestamp
/// would order two events of one millisecond by id), and the set of ids read. The JSON is never
/// rewritten: Redis's cjson would turn `[]` into `{}` and keep 14 digits of a number. Each
/// change is one Lua script, so concurrent tabs on different gateways cannot interleave
/// half-changes.
public struct RedisNotificationStore: NotificationStore {
    private let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    private func keys(_ room: String) -> [String] {
        let tag = "herald:{notifications:\(room)}"
        return [tag + ":items", tag + ":order", tag + ":read", tag + ":recorded"]
    }

    public func record(_ notification: StoredNotification, room: String) async throws {
        try await record([(notification, room)])
    }

    /// Every script of the batch pipelined on the one connection (Redis runs them in order).
    public func record(_ batch: [(notification: StoredNotification, room: String)]) async throws {
        let commands = batch.map { notification, room in
            var unread = notification
            unread.read = false
            return Self.evalCommand(Self.recordScript, keys(room), [
                notification.id, unread.json.jsonString, String(MemoryNotificationStore.capacity),
            ])
        }
        for result in await client.send(commands) { _ = try result.get() }
    }

    public func list(room: String) async throws -> [StoredNotification] {
        let reply = try await eval(Self.listScript, keys(room), [String(MemoryNotificationStore.capacity)])
        let items = reply.array ?? []
        // Pairs: the notification's JSON, then 1 when it was read.
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { index in
            guard var notification = items[index].string.flatMap({ JSONValue(parsing: $0) }).flatMap(StoredNotification.init(json:))
            else { return nil }
            notification.read = items[index + 1].integer == 1
            return notification
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

    /// KEYS: items, order, read, recorded. ARGV: id, json, capacity. Keeps a replayed event once
    /// (and its read state) and the newest `capacity` only.
    static let recordScript = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
        local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
        if excess > 0 then
            local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
            redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
            redis.call('HDEL', KEYS[1], unpack(old))
            redis.call('SREM', KEYS[3], unpack(old))
        end
        return 1
        """

    /// KEYS: items, order, read. ARGV: capacity. Newest first, each as its JSON and 1 if read.
    static let listScript = """
        local ids = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
        if #ids == 0 then return {} end
        local items = redis.call('HMGET', KEYS[1], unpack(ids))
        local result = {}
        for index, id in ipairs(ids) do
            result[#result + 1] = items[index]
            result[#result + 1] = redis.call('SISMEMBER', KEYS[3], id)
        end
        return result
        """

    /// KEYS: items, order, read. ARGV: action (read, read_all, delete), id.
    static let changeScript = """
        local action, id = ARGV[1], ARGV[2]
        if action == 'read' then
            if redis.call('HEXISTS', KEYS[1], id) == 0 then return -1 end
            redis.call('SADD', KEYS[3], id)
        elseif action == 'delete' then
            if redis.call('HDEL', KEYS[1], id) == 0 then return -1 end
            redis.call('ZREM', KEYS[2], id)
            redis.call('SREM', KEYS[3], id)
        else
            local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
            if #ids > 0 then redis.call('SADD', KEYS[3], unpack(ids)) end
        end
        return redis.call('ZCARD', KEYS[2]) - redis.call('SCARD', KEYS[3])
        """
}

extension StoredNotification {
    /// Reads back what `json` wrote.
    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let event = json["event"]?.stringValue,
              case .number(let number)? = json["timestamp"], let timestamp = Int64(exactly: number)
        else { return nil }
        self.init(id: id, event: event, payload: json["payload"] ?? .null, read: json["read"] == .bool(true),
                  timestamp: timestamp)
    }
}
