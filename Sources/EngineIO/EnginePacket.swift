import ExtrasBase64
import NIOCore

/// One Engine.IO v4 packet (https://socket.io/docs/v4/engine-io-protocol/#packet-encoding).
///
/// Text packets are a type digit followed by their data; a binary message travels as a
/// binary WebSocket frame, or base64 behind a `b` in a polling payload.
public enum EnginePacket: Equatable, Sendable {
    case open(String)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case binaryMessage(ByteBuffer)
    case upgrade
    case noop

    /// The packet type digit of a text packet.
    var typeDigit: UInt8 {
        switch self {
        case .open: UInt8(ascii: "0")
        case .close: UInt8(ascii: "1")
        case .ping: UInt8(ascii: "2")
        case .pong: UInt8(ascii: "3")
        case .message, .binaryMessage: UInt8(ascii: "4")
        case .upgrade: UInt8(ascii: "5")
        case .noop: UInt8(ascii: "6")
        }
    }

    /// Decodes a text packet (a WebSocket text frame, or one packet of a polling payload).
    public init(text: some StringProtocol) throws(EngineProtocolError) {
        guard let first = text.utf8.first else { throw .emptyPacket }
        // The type digit is one byte: drop that, not the first Character (a combining mark after
        // the digit would go with it).
        let data = String(decoding: text.utf8.dropFirst(), as: UTF8.self)
        switch first {
        case UInt8(ascii: "0"): self = .open(data)
        case UInt8(ascii: "1"): self = .close
        case UInt8(ascii: "2"): self = .ping(data)
        case UInt8(ascii: "3"): self = .pong(data)
        case UInt8(ascii: "4"): self = .message(data)
        case UInt8(ascii: "5"): self = .upgrade
        case UInt8(ascii: "6"): self = .noop
        default: throw .unknownPacketType(first)
        }
    }

    /// Writes the text form of this packet; binary messages are written base64 behind `b`,
    /// as a polling payload carries them.
    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .binaryMessage(let bytes):
            buffer.writeInteger(UInt8(ascii: "b"))
            buffer.writeString(Base64.encodeToString(bytes: bytes.readableBytesView))
        case .open(let data), .ping(let data), .pong(let data), .message(let data):
            buffer.writeInteger(typeDigit)
            buffer.writeString(data)
        case .close, .upgrade, .noop:
            buffer.writeInteger(typeDigit)
        }
    }

    /// The bytes `write(to:)` takes (exactly, but for base64's rounding), to size buffers once.
    public var encodedSizeEstimate: Int {
        switch self {
        case .binaryMessage(let bytes): 1 + (bytes.readableBytes + 2) / 3 * 4
        case .open(let data), .ping(let data), .pong(let data), .message(let data): 1 + data.utf8.count
        case .close, .upgrade, .noop: 1
        }
    }

    /// The text form of this packet.
    public var encoded: String {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(encodedSizeEstimate)
        write(to: &buffer)
        return String(buffer: buffer)
    }
}

/// Why a peer's bytes are not Engine.IO; the connection that sent them is closed.
public enum EngineProtocolError: Error, Equatable, Sendable {
    case emptyPacket
    case unknownPacketType(UInt8)
    case invalidBase64
    case payloadTooLarge
}
