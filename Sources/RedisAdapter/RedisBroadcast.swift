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
    public func encoded(asEmitter: Bool = false) -> ByteBuffer {
        var packetEntries: [MessagePackValue.MapEntry] = [
            .init(.string("type"), .uint(UInt64(packet.kind.rawValue))),
        ]
        if let data = packet.data { packetEntries.append(.init(.string("data"), MessagePackValue(data))) }
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
    public init?(decoding bytes: ByteBuffer) {
        guard let value = try? MessagePackValue(decoding: bytes), let items = value.arrayValue, items.count >= 3,
              let uid = items[0].stringValue,
              let type = items[1]["type"]?.integerValue, let kind = SocketIOPacket.Kind(rawValue: UInt8(clamping: type)),
              kind == .event
        else { return nil }
        let namespace = items[1]["nsp"]?.stringValue ?? "/"
        guard let data = items[1]["data"]?.json else { return nil }
        let packet = SocketIOPacket(kind: kind, namespace: namespace, id: nil, data: data)
        guard packet.eventName != nil else { return nil }
        let opts = items[2]
        self.init(
            uid: uid,
            packet: packet,
            options: BroadcastOptions(
                rooms: Self.roomSet(opts["rooms"]),
                except: Self.roomSet(opts["except"]),
                flags: BroadcastFlags(messagePack: opts["flags"])
            )
        )
    }

    /// Rooms are strings; a numeric room (JavaScript allows them) is read as its text.
    static func roomSet(_ value: MessagePackValue?) -> Set<String> {
        Set((value?.arrayValue ?? []).compactMap { $0.stringValue ?? $0.integerValue.map { String($0) } })
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
