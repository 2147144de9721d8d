import SocketIO
import Vocabulary

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
    ///
    /// A field of the wrong type makes the whole request malformed, so that it touches nothing:
    /// a REMOTE_JOIN whose `opts.rooms` is a string must not select every socket, as an empty
    /// selection would. The type must be one of the numbers exactly (1e20 or 2.5 is none).
    public init?(json: JSONValue) {
        guard case .number(let number)? = json["type"], let raw = Int(exactly: number),
              let type = RequestType(rawValue: raw),
              let uid = Self.optionalString(json["uid"]), let requestId = Self.optionalString(json["requestId"]),
              let rooms = Self.rooms(json["rooms"])
        else { return nil }
        var options: BroadcastOptions?
        switch json["opts"] {
        case nil, .null?:
            break
        case .object(let opts)?:
            guard let rooms = Self.rooms(opts["rooms"]), let except = Self.rooms(opts["except"]) else { return nil }
            options = BroadcastOptions(rooms: Set(rooms), except: Set(except))
        default:
            return nil
        }
        var data: [JSONValue] = []
        switch json["data"] {
        case nil, .null?: break
        case .array(let items)?: data = items
        default: return nil
        }
        self.init(
            type: type, uid: uid, requestId: requestId, options: options,
            rooms: rooms, close: json["close"] == .bool(true), data: data
        )
    }

    /// A string field that may be absent: `.some(nil)` when absent, nil when of another type.
    private static func optionalString(_ value: JSONValue?) -> String?? {
        switch value {
        case nil, .null?: .some(nil)
        case .string(let text)?: .some(text)
        default: nil
        }
    }

    /// A list of rooms that may be absent (then empty); nil when it or an item has another type.
    /// A numeric room (JavaScript allows them) is read as its text.
    static func rooms(_ value: JSONValue?) -> [String]? {
        switch value {
        case nil, .null?:
            return []
        case .array(let items)?:
            var rooms: [String] = []
            rooms.reserveCapacity(items.count)
            for item in items {
                switch item {
                case .string(let room): rooms.append(room)
                case .number: rooms.append(item.jsonString)
                default: return nil
                }
            }
            return rooms
        default:
            return nil
        }
    }

    /// The strings of an answer's list, leniently: answers select nothing, they only report.
    static func strings(_ value: JSONValue?) -> [String] {
        rooms(value) ?? []
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
