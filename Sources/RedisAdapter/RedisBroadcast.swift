import MessagePack
import NIOCore
import SocketIO

/// A broadcast on the wire: the MessagePack array `[uid, packet, {rooms, except, flags}]` of
/// `@socket.io/redis-adapter` (the emitter writes `{rooms, flags, except}` and uid `emitter`).
public struct RedisBroadcast: Sendable, Equatable {
    public var uid: String
    public var packet: SocketIOPacket
    public var options: BroadcastOptions

    /// The uid `@socket.io/redis-emitter` publishes under.
    public static let emitterUID = "emitter"

    public init(uid: String, packet: SocketIOPacket, options: BroadcastOptions) {
        self.uid = uid
        self.packet = packet
        self.options = options
    }

    /// The MessagePack bytes; `asEmitter` orders the options as the emitter does.
    ///
    /// A binary event goes out as a Node server publishes one: an EVENT (type 2) whose data holds
    /// each attachment as `bin` where its placeholder stands.
    public func encoded(asEmitter: Bool = false) -> ByteBuffer {
        let type: SocketIOPacket.Kind = packet.kind == .binaryEvent ? .event : packet.kind
        var packetEntries: [MessagePackValue.MapEntry] = [
            .init(.string("type"), .uint(UInt64(type.rawValue))),
        ]
        if let data = packet.data {
            packetEntries.append(.init(.string("data"), MessagePackValue(data, attachments: packet.attachments)))
        }
        packetEntries.append(.init(.string("nsp"), .string(packet.namespace)))
        let rooms = MessagePackValue.array(options.rooms.sorted().map(MessagePackValue.string))
        let except = MessagePackValue.array(options.except.sorted().map(MessagePackValue.string))
        let flags = options.flags.messagePack
        let opts: MessagePackValue = asEmitter
            ? .map(["rooms": rooms, "flags": flags, "except": except])
            : .map(["rooms": rooms, "except": except, "flags": flags])
        return MessagePackValue.array([.string(uid), .map(packetEntries), opts]).encoded
    }

    /// Decodes a broadcast; nil for anything that is not one this node can deliver.
    ///
    /// Wrong types select nobody: the Node adapter reads `new Set(opts.rooms)`, which for a
    /// string is a set of one-letter rooms and for a number or a map throws, so either way no
    /// socket of the room meant is reached. Rooms that are absent mean every socket, as there.
    public init?(decoding bytes: ByteBuffer) {
        guard let value = try? MessagePackValue(decoding: bytes), let items = value.arrayValue, items.count >= 3,
              let uid = items[0].stringValue,
              let type = items[1]["type"]?.integerValue,
              type == Int64(SocketIOPacket.Kind.event.rawValue) || type == Int64(SocketIOPacket.Kind.binaryEvent.rawValue),
              let namespace = Self.namespace(items[1]["nsp"]),
              case .map = items[2],
              let rooms = Self.roomSet(items[2]["rooms"]),
              let except = Self.roomSet(items[2]["except"])
        else { return nil }
        var attachments: [ByteBuffer] = []
        guard let data = items[1]["data"]?.json(attachments: &attachments) else { return nil }
        let kind: SocketIOPacket.Kind = attachments.isEmpty ? .event : .binaryEvent
        let packet = SocketIOPacket(kind: kind, namespace: namespace, id: nil, data: data, attachments: attachments)
        guard packet.eventName != nil else { return nil }
        self.init(
            uid: uid,
            packet: packet,
            options: BroadcastOptions(rooms: rooms, except: except, flags: BroadcastFlags(messagePack: items[2]["flags"]))
        )
    }

    /// `nsp` is a string, `/` when absent (as the Node adapter fills it in); nil for other types.
    private static func namespace(_ value: MessagePackValue?) -> String? {
        switch value {
        case nil, .nil?: "/"
        case .string(let name)?: name
        default: nil
        }
    }

    /// Rooms are strings; a numeric room (JavaScript allows them) is read as its text. Nil when
    /// the field or one of its items has another type: such a message selects nobody.
    static func roomSet(_ value: MessagePackValue?) -> Set<String>? {
        switch value {
        case nil, .nil?:
            return []
        case .array(let items)?:
            var rooms = Set<String>()
            for item in items {
                guard let room = item.stringValue ?? item.integerValue.map({ String($0) }) else { return nil }
                rooms.insert(room)
            }
            return rooms
        default:
            return nil
        }
    }
}

extension BroadcastFlags {
    /// The flags present, as the adapter writes them (absent flags are left out).
    var messagePack: MessagePackValue {
        var entries: [MessagePackValue.MapEntry] = []
        if let compress { entries.append(.init(.string("compress"), .bool(compress))) }
        if volatile { entries.append(.init(.string("volatile"), .bool(true))) }
        if local { entries.append(.init(.string("local"), .bool(true))) }
        return .map(entries)
    }

    init(messagePack value: MessagePackValue?) {
        self.init(
            volatile: value?["volatile"] == .bool(true),
            local: value?["local"] == .bool(true),
            compress: value?["compress"].flatMap { if case .bool(let flag) = $0 { flag } else { nil } }
        )
    }
}
