import NIOCore

/// An Engine.IO text message encoded once for many recipients (a broadcast).
///
/// It holds the complete unmasked WebSocket frame and the polling form of the same packet,
/// so a fan-out loop writes the same bytes to every member and never re-encodes per socket.
public struct PreparedMessage: Sendable {
    /// The whole WebSocket text frame: header and `4<data>`.
    public let webSocketFrame: ByteBuffer
    /// The Engine.IO packet as a polling payload carries it: `4<data>`.
    public let packet: ByteBuffer

    /// Prepares the Engine.IO message packet whose data is `data` (a Socket.IO packet).
    public init(message data: ByteBuffer) {
        var packet = ByteBuffer()
        packet.reserveCapacity(data.readableBytes + 1)
        packet.writeInteger(UInt8(ascii: "4"))
        packet.writeImmutableBuffer(data)
        var frame = ByteBuffer()
        frame.reserveCapacity(packet.readableBytes + 10)
        frame.writeWebSocketHeader(opcode: 0x1, payloadLength: packet.readableBytes)
        frame.writeImmutableBuffer(packet)
        self.webSocketFrame = frame
        self.packet = packet
    }
}

extension ByteBuffer {
    /// Writes the header of a final, unmasked server frame (RFC 6455 section 5.2).
    ///
    /// NIO's `WebSocketFrameEncoder` writes this header per write and keeps no public
    /// helper; a prebuilt broadcast frame needs it once, written beneath that encoder.
    mutating func writeWebSocketHeader(opcode: UInt8, payloadLength: Int) {
        writeInteger(0x80 | opcode)
        switch payloadLength {
        case ..<126:
            writeInteger(UInt8(payloadLength))
        case ..<65_536:
            writeInteger(UInt8(126))
            writeInteger(UInt16(payloadLength))
        default:
            writeInteger(UInt8(127))
            writeInteger(UInt64(payloadLength))
        }
    }
}
