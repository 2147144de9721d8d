// The MessagePack decoder of redis-adapter broadcasts.
//
// Invariants: a decoded value re-encodes (smallest forms) to bytes that decode again, and
// re-encoding that value gives the very same bytes (the encoding of a decoded value is a fixed
// point); a value that decodes leaves no byte unread; every string in it (keys too) is bytes of
// the input as they were, so nothing that is not UTF-8 was taken and repaired.
import FuzzSupport
import MessagePack
import NIOCore

func strings(in value: MessagePackValue) -> [String] {
    switch value {
    case .string(let text): [text]
    case .array(let items): items.flatMap(strings(in:))
    case .map(let entries): entries.flatMap { strings(in: $0.key) + strings(in: $0.value) }
    default: []
    }
}

func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
    guard !part.isEmpty else { return true }
    guard part.count <= bytes.count else { return false }
    return (0...(bytes.count - part.count)).contains { bytes[$0..<$0 + part.count].elementsEqual(part) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessagePack(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzBytes(start, count)
    let bytes = ByteBuffer(bytes: input)
    // The reader passes over one value as a decode reads it: the same length, and a value it
    // refuses is one a decode refuses (it leaves only UTF-8 to the decode).
    var reader = MessagePackReader(bytes)
    let raw = try? reader.readRaw(depth: 0)
    let decoded = try? MessagePackValue(decoding: bytes)
    if decoded != nil {
        invariant(raw?.readableBytes == input.count, "passed over \(String(describing: raw?.readableBytes)) of \(input.count) bytes")
    }
    if let raw, reader.isAtEnd, let value = try? MessagePackValue(decoding: raw) {
        // Compared as bytes: NaN is not equal to itself.
        invariant(decoded?.encoded == value.encoded, "\(value) passed over, \(String(describing: decoded)) decoded")
    }
    guard let value = decoded else { return 0 }
    for text in strings(in: value) {
        invariant(contains(input, Array(text.utf8)), "the string \(text.debugDescription) is not in the input \(hex(input))")
    }
    let encoded = value.encoded
    let again: MessagePackValue
    do {
        again = try MessagePackValue(decoding: encoded)
    } catch {
        invariant(false, "re-encoded \(hex(encoded.readableBytesView)) is refused: \(error)")
        return 0
    }
    invariant(again.encoded == encoded, "encoding of \(value) is not a fixed point")
    // Trailing bytes are refused.
    var longer = bytes
    longer.writeInteger(UInt8(0xC0))
    invariant((try? MessagePackValue(decoding: longer)) == nil, "a trailing byte was accepted")
    return 0
}

@_cdecl("FuzzMessagePack_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzMessagePack)
}
