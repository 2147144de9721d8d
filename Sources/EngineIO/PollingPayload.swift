import ExtrasBase64
import NIOCore

/// The body of an HTTP long-polling request or response: packets joined by the record
/// separator (0x1E), binary ones as `b` + base64 (Engine.IO v4 "Payload").
public enum PollingPayload {
    static let separator = UInt8(0x1E)

    /// Splits a POSTed body into packets; any malformed packet rejects the whole payload.
    public static func decode(_ body: ByteBuffer) throws(EngineProtocolError) -> [EnginePacket] {
        var packets: [EnginePacket] = []
        for part in body.readableBytesView.split(separator: separator, omittingEmptySubsequences: false) {
            if part.first == UInt8(ascii: "b") {
                do {
                    let bytes = try Base64.decode(bytes: part.dropFirst())
                    packets.append(.binaryMessage(ByteBuffer(bytes: bytes)))
                } catch {
                    throw .invalidBase64
                }
            } else {
                packets.append(try EnginePacket(text: String(decoding: part, as: UTF8.self)))
            }
        }
        return packets
    }

    /// Joins already-encoded packets into one response body.
    public static func encode(_ encodedPackets: some Sequence<ByteBuffer>) -> ByteBuffer {
        var body = ByteBuffer()
        var first = true
        for packet in encodedPackets {
            if !first { body.writeInteger(separator) }
            first = false
            body.writeImmutableBuffer(packet)
        }
        return body
    }
}
