// Engine.IO text packets (a WebSocket text frame, or one packet of a polling payload).
//
// Invariants: a packet that decodes re-encodes to text that decodes to the same packet, with
// exactly `encodedSizeEstimate` bytes; the input read as a binary message round-trips through
// its polling (`b` + base64) form with the size estimate exact too.
import EngineIO
import FuzzSupport
import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnginePacket(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    let text = String(decoding: bytes, as: UTF8.self)
    if let packet = try? EnginePacket(text: text) {
        let encoded = packet.encoded
        invariant(encoded.utf8.count == packet.encodedSizeEstimate, "size estimate \(packet.encodedSizeEstimate) for \(encoded.utf8.count) bytes")
        let again = try? EnginePacket(text: encoded)
        invariant(again == packet, "\(packet) re-encoded as \(encoded) decodes to \(String(describing: again))")
        if case .binaryMessage = packet { invariant(false, "a text packet decoded as binary") }
    }

    let binary = EnginePacket.binaryMessage(ByteBuffer(bytes: bytes))
    let polling = binary.encoded
    invariant(polling.utf8.count == binary.encodedSizeEstimate, "binary size estimate \(binary.encodedSizeEstimate) for \(polling.utf8.count)")
    let decoded = try? PollingPayload.decode(ByteBuffer(string: polling))
    invariant(decoded == [binary], "binary message of \(bytes.count) bytes comes back as \(String(describing: decoded))")
    return 0
}

@_cdecl("FuzzEnginePacket_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzEnginePacket)
}
