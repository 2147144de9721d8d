import MessagePack
import NIOCore
import SocketIO

/// A broadcast on the wire: the MessagePack array `[uid, packet, {rooms, except, flags}]` of
/// `@socket.io/redis-adapter` (the emitter writes `{rooms, flags, except}` and uid `emitter`).
public struct RedisBroadcast: Sendable, Equatable {
    public var uid: String
    public var packet: SocketIOPacket
    public var options: BroadcastOptions
    /// The recovery offset its publisher gave it (SPEC section 4.1), in the options map under
    /// `offset`, where Node's adapter does not look; nil for a plain Node emitter's message.
    public var offset: RecoveryOffset?

    /// The uid `@socket.io/redis-emitter` publishes under.
    public static let emitterUID = "emitter"

    public init(uid: String, packet: SocketIOPacket, options: BroadcastOptions, offset: RecoveryOffset? = nil) {
        self.uid = uid
        self.packet = packet
        self.options = options
        self.offset = offset
    }

    /// The MessagePack bytes; `asEmitter` orders the options as the emitter does.
    ///
    /// A binary event goes out as a Node server publishes one: an EVENT (type 2) whose data holds
    /// each attachment as `bin` where its placeholder stands.
    public func encoded(asEmitter: Bool = false) -> ByteBuffer {
        MessagePackValue.array([.string(uid), packetValue, optionsValue(asEmitter: asEmitter, offset: offset)]).encoded
    }

    /// The bytes of this message but for the value of its `offset` option, which comes last:
    /// the publishing script appends it (a MessagePack fixstr) once it has assigned the offset,
    /// so the message is encoded here, once, and Redis only adds the offset.
    public func encodedAwaitingOffset(asEmitter: Bool = false) -> ByteBuffer {
        var bytes = MessagePackValue.array([.string(uid), packetValue, optionsValue(asEmitter: asEmitter, offset: .zero)]).encoded
        // The offset is the last value: drop its encoding (a fixstr) and leave the rest.
        let zero = MessagePackValue.string(RecoveryOffset.zero.description).encoded
        bytes.moveWriterIndex(to: bytes.writerIndex - zero.readableBytes)
        return bytes
    }

    private var packetValue: MessagePackValue {
        let type: SocketIOPacket.Kind = packet.kind == .binaryEvent ? .event : packet.kind
        var packetEntries: [MessagePackValue.MapEntry] = [
            .init(.string("type"), .uint(UInt64(type.rawValue))),
        ]
        if let data = packet.data {
            packetEntries.append(.init(.string("data"), MessagePackValue(data, attachments: packet.attachments)))
        }
        packetEntries.append(.init(.string("nsp"), .string(packet.namespace)))
        return .map(packetEntries)
    }

    private func optionsValue(asEmitter: Bool, offset: RecoveryOffset?) -> MessagePackValue {
        let rooms = MessagePackValue.array(options.rooms.sorted().map(MessagePackValue.string))
        let except = MessagePackValue.array(options.except.sorted().map(MessagePackValue.string))
        let flags = options.flags.messagePack
        var entries: [MessagePackValue.MapEntry] = asEmitter
            ? [.init(.string("rooms"), rooms), .init(.string("flags"), flags), .init(.string("except"), except)]
            : [.init(.string("rooms"), rooms), .init(.string("except"), except), .init(.string("flags"), flags)]
        if let offset { entries.append(.init(.string("offset"), .string(offset.description))) }
        return .map(entries)
    }

    /// Decodes a broadcast; nil for anything that is not one this node can deliver.
    ///
    /// Wrong types select nobody: the Node adapter reads `new Set(opts.rooms)`, which for a
    /// string is a set of one-letter rooms and for a number or a map throws, so either way no
    /// socket of the room meant is reached. Rooms that are absent mean every socket, as there.
    public init?(decoding bytes: ByteBuffer) {
        guard let broadcast = Envelope(decoding: bytes)?.broadcast() else { return nil }
        self = broadcast
    }

    /// A broadcast read as far as its addressing: who published it, to whom, with what offset.
    /// Its data becomes a packet (`broadcast()`) only at a node that has a socket to give it to:
    /// every node hears every broadcast, and most reach none of its sockets (a guest's event
    /// reaches the one node holding that guest).
    public struct Envelope: Sendable {
        public var uid: String
        public var namespace: String
        public var options: BroadcastOptions
        public var offset: RecoveryOffset?
        /// The event's name, the first item of its data.
        public var eventName: String
        /// The packet's `data`, still MessagePack: read only where a socket of this node is in.
        private let data: ByteBuffer

        /// Nil for anything that is not a broadcast this node can deliver (see `RedisBroadcast`).
        /// The data is read only as far as its event name; the rest, when `broadcast()` is asked.
        public init?(decoding bytes: ByteBuffer) {
            var reader = MessagePackReader(bytes)
            guard let parts = try? reader.readArrayHeader(), parts >= 3,
                  let uid = (try? reader.read())?.stringValue,
                  let packet = try? Self.readPacket(&reader),
                  let typeValue = packet.type?.integerValue,
                  typeValue == Int64(SocketIOPacket.Kind.event.rawValue) || typeValue == Int64(SocketIOPacket.Kind.binaryEvent.rawValue),
                  let namespace = RedisBroadcast.namespace(packet.nsp),
                  let options = try? reader.read(), case .map = options,
                  let rooms = RedisBroadcast.roomSet(options["rooms"]),
                  let except = RedisBroadcast.roomSet(options["except"]),
                  // What follows the options is read as the whole message would be.
                  (try? (3..<parts).forEach { _ in _ = try reader.read() }) != nil, reader.isAtEnd,
                  // An event names itself first: anything else is refused here, at every node.
                  let data = packet.data, let eventName = Self.eventName(of: data)
            else { return nil }
            self.uid = uid
            self.namespace = namespace
            self.options = BroadcastOptions(rooms: rooms, except: except, flags: BroadcastFlags(messagePack: options["flags"]))
            // An offset of another shape is not Herald's: the event is delivered, not recoverable.
            self.offset = options["offset"]?.stringValue.flatMap { RecoveryOffset($0) }
            self.eventName = eventName
            self.data = data
        }

        /// The packet map's `type` and `nsp`, and its `data` passed over; the first of each key
        /// counts, as in a map read whole. Nil when the packet is not a map.
        private static func readPacket(
            _ reader: inout MessagePackReader
        ) throws(MessagePackError) -> (type: MessagePackValue?, nsp: MessagePackValue?, data: ByteBuffer?)? {
            guard let fields = try reader.readMapHeader() else { return nil }
            var type: MessagePackValue?, nsp: MessagePackValue?, data: ByteBuffer?
            for _ in 0..<fields {
                let key = try reader.read(depth: 2)
                if key == .string("data") {
                    // The first `data` is kept as bytes (decoded later, or written as text);
                    // a repeated one is read as values only to be checked, as reading the whole
                    // message would: skipped raw, a bad string in it passed (FuzzRedisBroadcast).
                    if data == nil { data = try reader.readRaw(depth: 2) } else { _ = try reader.read(depth: 2) }
                    continue
                }
                let value = try reader.read(depth: 2)
                if key == .string("type"), type == nil { type = value }
                if key == .string("nsp"), nsp == nil { nsp = value }
            }
            return (type, nsp, data)
        }

        /// The first item of `data` when it is an array whose first item is a string (the event's name).
        private static func eventName(of data: ByteBuffer) -> String? {
            var reader = MessagePackReader(data)
            guard let count = try? reader.readArrayHeader(), count >= 1, case .string(let name)? = try? reader.read() else { return nil }
            return name
        }

        /// The Socket.IO text the clients get, written from the data's bytes (`EventText`), with
        /// `offset` as its last argument; nil for a binary event, or data that `broadcast()` decides.
        public func eventText(offset: RecoveryOffset?) -> ByteBuffer? {
            EventText.encode(data: data, namespace: namespace, offset: offset)
        }

        /// The whole broadcast, its data converted; nil when the data holds what no event can.
        public func broadcast() -> RedisBroadcast? {
            var attachments: [ByteBuffer] = []
            guard let data = try? MessagePackValue(decoding: data), let json = data.json(attachments: &attachments) else { return nil }
            let kind: SocketIOPacket.Kind = attachments.isEmpty ? .event : .binaryEvent
            let packet = SocketIOPacket(kind: kind, namespace: namespace, id: nil, data: json, attachments: attachments)
            guard packet.eventName != nil else { return nil }
            return RedisBroadcast(uid: uid, packet: packet, options: options, offset: offset)
        }
    }

    /// `nsp` is a string, `/` when absent (as the Node adapter fills it in); nil for other types.
    static func namespace(_ value: MessagePackValue?) -> String? {
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
