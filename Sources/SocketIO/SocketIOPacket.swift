import NIOCore
import Vocabulary

/// One Socket.IO v5 packet (https://socket.io/docs/v4/socket-io-protocol/).
///
/// Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`. A binary packet
/// (BINARY_EVENT, BINARY_ACK) carries `{"_placeholder":true,"num":i}` in its data where the i-th
/// attachment goes; the attachments follow the text as binary Engine.IO messages.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    public var kind: Kind
    public var namespace: String
    public var id: Int?
    public var data: JSONValue?
    /// The binary attachments of a BINARY_EVENT or BINARY_ACK, in placeholder order.
    public var attachments: [ByteBuffer]

    public init(kind: Kind, namespace: String = "/", id: Int? = nil, data: JSONValue? = nil, attachments: [ByteBuffer] = []) {
        self.kind = kind
        self.namespace = namespace
        self.id = id
        self.data = data
        self.attachments = attachments
    }

    /// An EVENT packet: `["name", args...]`.
    public static func event(_ name: String, _ args: [JSONValue], namespace: String = "/", id: Int? = nil) -> Self {
        SocketIOPacket(kind: .event, namespace: namespace, id: id, data: .array([.string(name)] + args))
    }

    /// The event name and arguments of an EVENT packet.
    public var eventName: String? {
        guard kind == .event || kind == .binaryEvent, case .array(let items) = data else { return nil }
        return items.first?.stringValue
    }

    public var eventArguments: [JSONValue] {
        guard case .array(let items) = data else { return [] }
        return Array(items.dropFirst())
    }

    /// Event names the protocol reserves; a client may not send them (as in the Node decoder).
    static let reservedEvents: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The most attachments one packet may announce.
    public static let maxAttachments = 64

    /// Decodes a text packet that announces no attachments, rejecting what the Node decoder
    /// rejects; a binary packet's header needs `SocketIOPacketDecoder`, which collects its attachments.
    public init(decoding text: String) throws(SocketIOProtocolError) {
        let (packet, attachments) = try Self.decodeHeader(text)
        guard attachments == 0 else { throw .unexpectedText }
        self = packet
    }

    /// Decodes the text form; a binary packet comes back without its attachments, with their
    /// announced count.
    static func decodeHeader(_ text: String) throws(SocketIOProtocolError) -> (packet: SocketIOPacket, attachments: Int) {
        // Every delimiter is found in the UTF-8 view, never by Character: a prepended
        // concatenation mark such as U+0601 joins the "," after it into one grapheme, so a
        // Character search would run the namespace on into the ack id (and Node splits on code
        // units, not graphemes).
        var rest = Substring(text)
        // The type is one ASCII digit. `Character.wholeNumberValue` would also read 万 (10,000)
        // or a fullwidth ５, and 10,000 does not fit the raw value.
        guard let typeByte = rest.utf8.first, let kind = Kind(asciiDigit: typeByte) else { throw .invalidPacketType }
        rest = rest[rest.utf8.index(after: rest.startIndex)...]
        var attachments = 0
        if kind == .binaryEvent || kind == .binaryAck {
            guard let dash = rest.utf8.firstIndex(of: UInt8(ascii: "-")), let count = Self.decimal(rest[..<dash], maxDigits: 2),
                  count <= Self.maxAttachments
            else { throw .invalidAttachments }
            attachments = count
            rest = rest[rest.utf8.index(after: dash)...]
        }
        var namespace = "/"
        if rest.utf8.first == UInt8(ascii: "/") {
            let end = rest.utf8.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            namespace = String(rest[..<end])
            rest = end == rest.endIndex ? rest[end...] : rest[rest.utf8.index(after: end)...]
        }
        let digitsEnd = rest.utf8.firstIndex(where: { !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) ?? rest.endIndex
        var id: Int?
        if digitsEnd != rest.startIndex {
            guard let value = Self.decimal(rest[..<digitsEnd], maxDigits: 15) else { throw .invalidAckID }
            id = value
            rest = rest[digitsEnd...]
        }
        var data: JSONValue?
        if !rest.isEmpty {
            guard let value = JSONValue(parsing: rest) else { throw .invalidJSON }
            data = value
        }
        let packet = SocketIOPacket(kind: kind, namespace: namespace, id: id, data: data)
        guard packet.isPayloadValid else { throw .invalidPayload }
        return (packet, attachments)
    }

    /// A run of ASCII digits, at most `maxDigits` long (so it cannot overflow); nil for anything
    /// else, a sign included (`Int("+1")` would take one).
    private static func decimal(_ text: Substring, maxDigits: Int) -> Int? {
        asciiDecimal(text.utf8, maxDigits: maxDigits).map { Int($0) }
    }

    /// The payload shapes of the Node decoder's `isPayloadValid`.
    private var isPayloadValid: Bool {
        switch kind {
        case .connect:
            return data?.isObject ?? true
        case .disconnect:
            return data == nil
        case .connectError:
            return data?.isObject == true || data?.stringValue != nil
        case .event, .binaryEvent:
            guard case .array(let items) = data, let name = items.first?.stringValue else { return false }
            return !Self.reservedEvents.contains(name)
        case .ack, .binaryAck:
            guard case .array = data else { return false }
            return true
        }
    }

    /// The text form.
    public var encoded: String {
        var text = String(kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck { text += "\(attachments.count)-" }
        if namespace != "/" { text += namespace + "," }
        if let id { text += String(id) }
        if let data { text += data.jsonString }
        return text
    }
}

extension SocketIOPacket.Kind {
    /// The kind whose type digit is this ASCII byte.
    init?(asciiDigit byte: UInt8) {
        guard byte >= UInt8(ascii: "0") else { return nil }
        self.init(rawValue: byte - UInt8(ascii: "0"))
    }
}

/// Why a packet is not Socket.IO; the connection that sent it is closed (as Node does).
public enum SocketIOProtocolError: Error, Equatable, Sendable {
    case invalidPacketType
    case invalidAttachments
    case invalidAckID
    case invalidJSON
    case invalidPayload
    case unexpectedBinary
    case unexpectedText
    case attachmentsTooLarge
    case invalidPlaceholder
}
