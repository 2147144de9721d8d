import NIOCore

/// An Engine.IO text message encoded once for many recipients (a broadcast).
///
/// It holds the complete unmasked WebSocket frames and the polling form of the same packets,
/// so a fan-out loop writes the same bytes to every member and never re-encodes per socket.
/// A binary Socket.IO packet is its text message followed by one binary message per attachment.
public struct PreparedMessage: Sendable {
    /// The whole WebSocket text frame (header and `4<data>`), then a binary frame per attachment.
    public let webSocketFrame: ByteBuffer
    /// The Engine.IO packets as a polling payload carries them: `4<data>`, then `\u{1E}b<base64>`
    /// per attachment.
    public let packet: ByteBuffer
    /// How many Engine.IO packets `packet` holds (a polling response carries a bounded number).
    public let packetCount: Int

    /// Prepares the Engine.IO message packet whose data is `data` (a Socket.IO packet) and the
    /// binary messages of its attachments.
    public init(message data: ByteBuffer, attachments: [ByteBuffer] = []) {
        var packet = ByteBuffer()
        packet.reserveCapacity(data.readableBytes + 1)
        packet.writeInteger(UInt8(ascii: "4"))
        packet.writeImmutableBuffer(data)
        var frame = ByteBuffer()
        frame.reserveCapacity(packet.readableBytes + 10)
        frame.writeWebSocketHeader(opcode: 0x1, payloadLength: packet.readableBytes)
        frame.writeImmutableBuffer(packet)
        for attachment in attachments {
            frame.writeWebSocketHeader(opcode: 0x2, payloadLength: attachment.readableBytes)
            frame.writeImmutableBuffer(attachment)
            packet.writeInteger(PollingPayload.separator)
            EnginePacket.binaryMessage(attachment).write(to: &packet)
        }
        self.webSocketFrame = frame
        self.packet = packet
        self.packetCount = 1 + attachments.count
    }

    /// Several messages as one, in order: their WebSocket frames back to back and their polling
    /// packets joined by the payload separator, the same bytes a transport would have written
    /// for them one by one. A member of every one of them takes them in one write. One message
    /// is itself, not a copy.
    public init(concatenating messages: some Collection<PreparedMessage>) {
        if messages.count == 1, let only = messages.first {
            self = only
            return
        }
        var frame = ByteBuffer(), packet = ByteBuffer()
        frame.reserveCapacity(messages.reduce(0) { $0 + $1.webSocketFrame.readableBytes })
        packet.reserveCapacity(messages.reduce(0) { $0 + $1.packet.readableBytes + 1 })
        for message in messages {
            if packet.readableBytes > 0 { packet.writeInteger(PollingPayload.separator) }
            frame.writeImmutableBuffer(message.webSocketFrame)
            packet.writeImmutableBuffer(message.packet)
        }
        self.webSocketFrame = frame
        self.packet = packet
        self.packetCount = messages.reduce(0) { $0 + $1.packetCount }
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
