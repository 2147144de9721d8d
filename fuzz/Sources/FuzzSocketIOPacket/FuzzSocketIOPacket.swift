// Socket.IO packets: the text form (SocketIOPacket(decoding:)) and the binary reassembly of
// SocketIOPacketDecoder (a packet announcing N attachments, then N binary messages).
//
// The input is a sequence of messages (fuzzChunks): a chunk with the flag bit set is a binary
// message, else a text one. Each text message is also decoded on its own.
//
// Invariants: a packet that decodes re-encodes to text that decodes to the same packet; fed to
// an idle reassembler, a text packet that announces no attachments comes out at once, equal to
// what SocketIOPacket(decoding:) makes of it; a reassembled packet, encoded again as its text and
// its attachments, comes out of a fresh reassembler equal, and only after its last attachment.
import FuzzSupport
import NIOCore
import SocketIO

func checkText(_ text: String) -> SocketIOPacket? {
    guard let packet = try? SocketIOPacket(decoding: text) else { return nil }
    let encoded = packet.encoded
    let again = try? SocketIOPacket(decoding: encoded)
    invariant(again == packet, "\(packet) re-encoded as \(encoded) decodes to \(String(describing: again))")
    return packet
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSocketIOPacket(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    // The whole input as one text packet: most of the decoder's paths.
    _ = checkText(String(decoding: bytes, as: UTF8.self))
    let messages = fuzzChunks(bytes)
    for message in messages where !message.flag {
        _ = checkText(String(decoding: message.bytes, as: UTF8.self))
    }
    reassemble(messages)
    return 0
}

/// Feeds the messages to one reassembler, as a connection's Engine.IO messages; after a protocol
/// error the connection would be closed, so a new reassembler takes the rest.
func reassemble(_ messages: [(flag: Bool, bytes: [UInt8])]) {
    var decoder = SocketIOPacketDecoder()
    for message in messages {
        do {
            let packet: SocketIOPacket?
            if message.flag {
                packet = try decoder.receive(binary: ByteBuffer(bytes: message.bytes))
            } else {
                let text = String(decoding: message.bytes, as: UTF8.self)
                let wasIdle = !decoder.isAwaitingAttachments
                packet = try decoder.receive(text: text)
                if wasIdle, let packet, let plain = try? SocketIOPacket(decoding: text) {
                    invariant(packet == plain, "reassembler made \(packet) of \(text), plain decoding \(plain)")
                }
            }
            if let packet { checkReassembled(packet) }
        } catch {
            decoder = SocketIOPacketDecoder()
        }
    }
}

/// A packet out of the reassembler, encoded again (its text, then its attachments), comes out of
/// a fresh reassembler equal, and only after its last attachment.
func checkReassembled(_ packet: SocketIOPacket) {
    invariant(packet.attachments.count <= SocketIOPacket.maxAttachments, "\(packet.attachments.count) attachments")
    var decoder = SocketIOPacketDecoder()
    let text = packet.encoded
    var out: SocketIOPacket?
    do {
        out = try decoder.receive(text: text)
        for (index, attachment) in packet.attachments.enumerated() {
            invariant(out == nil, "\(text) was complete before attachment \(index)")
            out = try decoder.receive(binary: attachment)
        }
    } catch {
        invariant(false, "\(packet) re-encoded as \(text) is refused: \(error)")
    }
    invariant(out == packet, "\(packet) re-encoded as \(text) comes back as \(String(describing: out))")
}

@_cdecl("FuzzSocketIOPacket_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSocketIOPacket)
}
