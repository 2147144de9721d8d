import SocketIO

/// The request types of `@socket.io/redis-adapter`, with their numbers on the wire.
public enum RequestType: Int, Sendable {
    case sockets = 0
    case allRooms = 1
    case remoteJoin = 2
    case remoteLeave = 3
    case remoteDisconnect = 4
    case remoteFetch = 5
    case serverSideEmit = 6
    case broadcast = 7
    case broadcastClientCount = 8
    case broadcastAck = 9
}

/// A request between nodes, as the adapter writes it: a JSON object on the request channel.
public struct ClusterRequest: Sendable, Equatable {
    public var type: RequestType
    /// Absent in requests from `@socket.io/redis-emitter`.
    public var uid: String?
    public var requestId: String?
    /// The sockets a remote join, leave, disconnect or fetch applies to.
    public var options: BroadcastOptions?
    /// The rooms to join or leave.
    public var rooms: [String]
    public var close: Bool
    /// The event and arguments of a server-side emit.
    public var data: [JSONValue]

    public init(
        type: RequestType, uid: String?, requestId: String? = nil, options: BroadcastOptions? = nil,
        rooms: [String] = [], close: Bool = false, data: [JSONValue] = []
    ) {
        self.type = type
        self.uid = uid
        self.requestId = requestId
        self.options = options
        self.rooms = rooms
        self.close = close
        self.data = data
    }

    /// Reads a request; nil for a malformed one (the Node adapter ignores those too).
    public init?(json: JSONValue) {
        guard case .number(let number)? = json["type"], let type = RequestType(rawValue: Int(number)) else { return nil }
        var options: BroadcastOptions?
        if let opts = json["opts"], opts.isObject {
            options = BroadcastOptions(rooms: Set(Self.strings(opts["rooms"])), except: Set(Self.strings(opts["except"])))
        }
        var data: [JSONValue] = []
        if case .array(let items)? = json["data"] { data = items }
        self.init(
            type: type,
            uid: json["uid"]?.stringValue,
            requestId: json["requestId"]?.stringValue,
            options: options,
            rooms: Self.strings(json["rooms"]),
            close: json["close"] == .bool(true),
            data: data
        )
    }

    static func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            if case .number(let number) = item { return JSONValue.number(number).jsonString }
            return item.stringValue
        }
    }

    /// The JSON the adapter publishes.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["type": .number(Double(type.rawValue))]
        if let uid { object["uid"] = .string(uid) }
        if let requestId { object["requestId"] = .string(requestId) }
        if let options {
            object["opts"] = [
                "rooms": .array(options.rooms.sorted().map(JSONValue.string)),
                "except": .array(options.except.sorted().map(JSONValue.string)),
            ]
        }
        switch type {
        case .remoteJoin, .remoteLeave: object["rooms"] = .array(rooms.map(JSONValue.string))
        case .remoteDisconnect: object["close"] = .bool(close)
        case .serverSideEmit: object["data"] = .array(data)
        default: break
        }
        return .object(object)
    }
}

extension SocketDetails {
    /// `{id, handshake, rooms, data}` as the adapter answers REMOTE_FETCH.
    var json: JSONValue {
        ["id": .string(id), "handshake": ["headers": [:], "query": [:]], "rooms": .array(rooms.sorted().map(JSONValue.string)), "data": data]
    }

    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue else { return nil }
        self.init(id: id, rooms: Set(ClusterRequest.strings(json["rooms"])), data: json["data"] ?? .null)
    }
}
