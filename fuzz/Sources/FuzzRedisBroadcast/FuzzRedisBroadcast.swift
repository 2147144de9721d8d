// Broadcasts on the redis-adapter's broadcast channel: MessagePack
// `[uid, {type, data, nsp}, {rooms, except, flags}]` (RedisBroadcast(decoding:), and the
// envelope a gateway reads first, RedisBroadcast.Envelope).
//
// Invariants: the envelope says what the whole message says; the event text written from its
// bytes (`Envelope.eventText`) parses to the text of the values' path, and is missing only for a
// binary event or a broadcast the values refuse. A broadcast that decodes is an EVENT with a
// name and no ack id, or, when the data held `bin`, a BINARY_EVENT whose placeholders each name
// one of its attachments; encoded again (in the adapter's option order and the emitter's) it
// decodes to the same broadcast (NaN numbers compared as equal). A binary one is only required
// to decode again as binary: a map that merely looks like a placeholder is as ambiguous here as
// it is in socket.io-parser.
import FuzzSupport
import MessagePack
import NIOCore
import Vocabulary
@testable import RedisAdapter
@testable import SocketIO

func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): return sameNumber(x, y)
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
    default: return a == b
    }
}

func same(_ a: RedisBroadcast, _ b: RedisBroadcast) -> Bool {
    var plainA = a, plainB = b
    plainA.packet.data = nil
    plainB.packet.data = nil
    guard plainA == plainB else { return false }
    switch (a.packet.data, b.packet.data) {
    case (nil, nil): return true
    case (let x?, let y?): return same(x, y)
    default: return false
    }
}

/// A broadcast's addressing read from the whole message's values, as the envelope did before it
/// read a part at a time.
func referenceAddressing(_ value: MessagePackValue) -> (uid: String, namespace: String, options: BroadcastOptions, offset: RecoveryOffset?)? {
    guard let items = value.arrayValue, items.count >= 3, let uid = items[0].stringValue,
          let type = items[1]["type"]?.integerValue,
          type == Int64(SocketIOPacket.Kind.event.rawValue) || type == Int64(SocketIOPacket.Kind.binaryEvent.rawValue),
          let namespace = RedisBroadcast.namespace(items[1]["nsp"]),
          case .map = items[2],
          let rooms = RedisBroadcast.roomSet(items[2]["rooms"]),
          let except = RedisBroadcast.roomSet(items[2]["except"]),
          let data = items[1]["data"], case .string? = data.arrayValue?.first
    else { return nil }
    let options = BroadcastOptions(rooms: rooms, except: except, flags: BroadcastFlags(messagePack: items[2]["flags"]))
    return (uid, namespace, options, items[2]["offset"]?.stringValue.flatMap { RecoveryOffset($0) })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedisBroadcast(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = ByteBuffer(bytes: fuzzBytes(start, count))
    // A gateway reads the envelope first, and the rest only for its own sockets: what the
    // envelope says must be what the whole broadcast says.
    let envelope = RedisBroadcast.Envelope(decoding: bytes)
    // The envelope reads the message a part at a time and passes over its data: it must accept
    // exactly what reading the whole message as values accepts, and a message that is not whole
    // MessagePack must never become a broadcast.
    let whole = try? MessagePackValue(decoding: bytes)
    let reference = whole.flatMap(referenceAddressing)
    if whole != nil {
        invariant((envelope == nil) == (reference == nil), "envelope \(String(describing: envelope)), read whole \(String(describing: reference))")
    }
    if let envelope, let reference {
        invariant(envelope.uid == reference.uid && envelope.namespace == reference.namespace && envelope.options == reference.options
                      && envelope.offset == reference.offset, "\(envelope) is not \(reference)")
    }
    // The text a gateway writes straight from the bytes is the text of the values' path, or
    // nothing, which leaves the event to that path (a binary event, or a refusal it makes).
    let text = envelope?.eventText(offset: envelope?.offset)
    guard let broadcast = RedisBroadcast(decoding: bytes) else {
        invariant(text == nil, "the text \(String(describing: text)) of a broadcast the values refuse")
        return 0
    }
    if let text {
        let throughValues = (envelope?.offset.map { broadcast.packet.withOffset($0) } ?? broadcast.packet).encoded
        let written = String(buffer: text)
        invariant(broadcast.packet.attachments.isEmpty && written.first == "2", "\(written) for \(broadcast)")
        // `2`, a namespace other than `/` with its comma, then the data.
        let prefix = "2" + (broadcast.packet.namespace == "/" ? "" : broadcast.packet.namespace + ",")
        let parsed = JSONValue(parsing: Substring(written.utf8.dropFirst(prefix.utf8.count)))
        invariant(written.hasPrefix(prefix) && throughValues.hasPrefix(prefix) && parsed != nil
                      && parsed == JSONValue(parsing: Substring(throughValues.utf8.dropFirst(prefix.utf8.count))),
                  "written \(written), through the values \(throughValues)")
    } else {
        invariant(!broadcast.packet.attachments.isEmpty, "no text for \(broadcast)")
    }
    invariant(whole != nil, "\(broadcast) from bytes that are not one MessagePack value")
    guard let envelope else {
        invariant(false, "\(broadcast) decodes, its envelope does not")
        return 0
    }
    invariant(envelope.uid == broadcast.uid && envelope.options == broadcast.options && envelope.offset == broadcast.offset
                  && envelope.namespace == broadcast.packet.namespace, "\(envelope) is not \(broadcast)")
    let packet = broadcast.packet
    invariant(packet.id == nil, "decoded \(packet)")
    invariant(packet.eventName != nil, "an event without a name: \(packet)")
    if !packet.attachments.isEmpty {
        invariant(packet.kind == .binaryEvent, "attachments on \(packet)")
        invariant((try? packet.checkingPlaceholders()) != nil, "a placeholder names no attachment: \(packet)")
        let again = RedisBroadcast(decoding: broadcast.encoded())
        invariant(again?.packet.kind == .binaryEvent, "\(broadcast) encoded decodes to \(String(describing: again))")
        return 0
    }
    invariant(packet.kind == .event, "decoded \(packet)")
    for asEmitter in [false, true] {
        let encoded = broadcast.encoded(asEmitter: asEmitter)
        guard let again = RedisBroadcast(decoding: encoded) else {
            invariant(false, "\(broadcast) encoded as \(hex(encoded.readableBytesView)) is refused")
            return 0
        }
        invariant(same(again, broadcast), "\(broadcast) encoded decodes to \(again)")
    }
    return 0
}

@_cdecl("FuzzRedisBroadcast_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRedisBroadcast)
}
