/// The channel names of `@socket.io/redis-adapter` for one namespace (`key` defaults to `socket.io`).
public struct RedisChannels: Sendable, Equatable {
    /// `socket.io#/#`: broadcasts to several rooms or to everyone.
    public let broadcast: String
    /// `socket.io-request#/#`: requests between nodes (JSON, or MessagePack for BROADCAST).
    public let request: String
    /// `socket.io-response#/#`: responses, unless sent to the requester's own channel.
    public let response: String

    public init(key: String = "socket.io", namespace: String = "/") {
        broadcast = "\(key)#\(namespace)#"
        request = "\(key)-request#\(namespace)#"
        response = "\(key)-response#\(namespace)#"
    }

    /// `socket.io#/#<room>#`: a broadcast to exactly one room.
    public func room(_ room: String) -> String {
        broadcast + room + "#"
    }

    /// `socket.io-response#/#<uid>#`: responses for one node only.
    public func response(for uid: String) -> String {
        response + uid + "#"
    }

    /// Where a broadcast with these rooms is published: a single room has its own channel.
    public func channel(forRooms rooms: Set<String>) -> String {
        if rooms.count == 1, let only = rooms.first { return room(only) }
        return broadcast
    }
}
