/// One Socket.IO v5 packet (https://socket.io/docs/v4/socket-io-protocol/).
///
/// Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`.
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
    /// Binary attachments that follow a binary packet as separate Engine.IO messages.
    public var attachments: Int

    public init(kind: Kind, namespace: String = "/", id: Int? = nil, data: JSONValue? = nil, attachments: Int = 0) {
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
    static let maxAttachments = 64

    /// Decodes the text form, rejecting what the Node decoder rejects.
    public init(decoding text: String) throws(SocketIOProtocolError) {
        var rest = Substring(text)
        guard let typeChar = rest.first, let digit = typeChar.wholeNumberValue, let kind = Kind(rawValue: UInt8(digit))
        else { throw .invalidPacketType }
        rest = rest.dropFirst()
        var attachments = 0
        if kind == .binaryEvent || kind == .binaryAck {
            guard let dash = rest.firstIndex(of: "-"), let count = Int(rest[..<dash]), count >= 0,
                  count <= Self.maxAttachments
            else { throw .invalidAttachments }
            attachments = count
            rest = rest[rest.index(after: dash)...]
        }
        var namespace = "/"
        if rest.first == "/" {
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            namespace = String(rest[..<end])
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        var id: Int?
        if !digits.isEmpty {
            guard digits.count <= 15, let value = Int(digits) else { throw .invalidAckID }
            id = value
            rest = rest.dropFirst(digits.count)
        }
        var data: JSONValue?
        if !rest.isEmpty {
            guard let value = JSONValue(parsing: rest) else { throw .invalidJSON }
            data = value
        }
        self.init(kind: kind, namespace: namespace, id: id, data: data, attachments: attachments)
        guard isPayloadValid else { throw .invalidPayload }
    }

    /// The payload shapes of the Node decoder's `isPayloadValid`.
    private var isPayloadValid: Bool {
        switch kind {
        case .connect:
            return data == nil || data!.isObject
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
        if kind == .binaryEvent || kind == .binaryAck { text += "\(attachments)-" }
        if namespace != "/" { text += namespace + "," }
        if let id { text += String(id) }
        if let data { text += data.jsonString }
        return text
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
}
