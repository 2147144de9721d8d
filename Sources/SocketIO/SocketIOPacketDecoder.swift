import NIOCore

/// Reads a client's Socket.IO packets from its Engine.IO messages, reassembling binary packets.
///
/// A BINARY_EVENT or BINARY_ACK announces N attachments in its text; the next N binary messages
/// are those attachments. Anything else in between is a protocol error, as in the Node decoder
/// ("got plaintext data when reconstructing a packet"), and so is a binary message nobody
/// announced. The attachments' bytes are bounded in total, and the count by the header.
public struct SocketIOPacketDecoder {
    /// The most attachment bytes one packet may carry.
    public let maxAttachmentBytes: Int
    private var pending: Pending?

    /// A class, so that the decoder every connection keeps is two words: a packet inline made it
    /// ~90 bytes, for the rare client that sends binary (heaptrack).
    private final class Pending {
        var packet: SocketIOPacket
        let expected: Int
        var bytes = 0

        init(packet: SocketIOPacket, expected: Int) {
            self.packet = packet
            self.expected = expected
        }
    }

    public init(maxAttachmentBytes: Int = 1_000_000) {
        self.maxAttachmentBytes = maxAttachmentBytes
    }

    /// Whether a binary packet is waiting for attachments.
    public var isAwaitingAttachments: Bool { pending != nil }

    /// A text message; the packet, or nil when it is a binary packet that waits for attachments.
    public mutating func receive(text: String) throws(SocketIOProtocolError) -> SocketIOPacket? {
        guard pending == nil else { throw .unexpectedText }
        let (packet, expected) = try SocketIOPacket.decodeHeader(text)
        guard expected > 0 else { return try packet.checkingPlaceholders() }
        pending = Pending(packet: packet, expected: expected)
        return nil
    }

    /// A binary message: the next attachment; the packet once it has them all.
    public mutating func receive(binary: ByteBuffer) throws(SocketIOProtocolError) -> SocketIOPacket? {
        guard let current = pending else { throw .unexpectedBinary }
        pending = nil
        current.bytes += binary.readableBytes
        guard current.bytes <= maxAttachmentBytes else { throw .attachmentsTooLarge }
        current.packet.attachments.append(binary)
        guard current.packet.attachments.count == current.expected else {
            pending = current
            return nil
        }
        return try current.packet.checkingPlaceholders()
    }
}
