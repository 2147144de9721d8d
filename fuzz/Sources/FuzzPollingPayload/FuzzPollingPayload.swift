// HTTP long-polling bodies: packets joined by 0x1E, binary ones as `b` + base64.
//
// Invariant: a body that decodes, re-encoded packet by packet and joined again, decodes to the
// same packets (and the re-encoded form is a fixed point: encoding it again gives the same bytes).
import EngineIO
import FuzzSupport
import NIOCore

func encode(_ packets: [EnginePacket]) -> ByteBuffer {
    PollingPayload.encode(packets.map { packet in
        var buffer = ByteBuffer()
        packet.write(to: &buffer)
        return buffer
    })
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPollingPayload(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let body = ByteBuffer(bytes: fuzzBytes(start, count))
    guard let packets = try? PollingPayload.decode(body) else { return 0 }
    invariant(!packets.isEmpty, "a body decoded to no packet")
    let encoded = encode(packets)
    let again: [EnginePacket]
    do {
        again = try PollingPayload.decode(encoded)
    } catch {
        invariant(false, "re-encoded body \(hex(encoded.readableBytesView)) is refused: \(error)")
        return 0
    }
    invariant(again == packets, "\(packets) re-encoded decodes to \(again)")
    invariant(encode(again) == encoded, "encoding is not a fixed point")
    return 0
}

@_cdecl("FuzzPollingPayload_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPollingPayload)
}
