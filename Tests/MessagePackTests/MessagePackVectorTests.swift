import Foundation
import NIOCore
import Testing

@testable import MessagePack

/// The codec against vectors made by PyPI's msgpack (`make_vectors.py` writes `vectors.json`):
/// encoding gives the same bytes, decoding gives back the value.
@Suite struct MessagePackVectorTests {
    struct Vector: Sendable, CustomStringConvertible {
        let value: MessagePackValue
        let bytes: [UInt8]
        var description: String { String(describing: value).prefix(60) + "…" }
    }

    static let vectors: [Vector] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("vectors.json")
        guard let data = try? Data(contentsOf: path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = root["vectors"] as? [[String: Any]]
        else { return [] }
        return items.compactMap { item in
            guard let hex = item["hex"] as? String, let value = build(item["value"]) else { return nil }
            return Vector(value: value, bytes: bytes(hex))
        }
    }()

    static func build(_ tagged: Any?) -> MessagePackValue? {
        guard let tagged = tagged as? [Any], let tag = tagged.first as? String else { return nil }
        switch tag {
        case "nil": return .nil
        case "bool": return (tagged[1] as? Bool).map(MessagePackValue.bool)
        case "int":
            guard let number = tagged[1] as? NSNumber else { return nil }
            let text = number.stringValue
            if let value = UInt64(text) { return .uint(value) }
            return Int64(text).map(MessagePackValue.int)
        case "float": return (tagged[1] as? NSNumber).map { .float($0.doubleValue) }
        case "str": return (tagged[1] as? String).map(MessagePackValue.string)
        case "bin": return (tagged[1] as? String).map { .binary(bytes($0)) }
        case "array": return (tagged[1] as? [Any]).map { .array($0.compactMap(build)) }
        case "map":
            return (tagged[1] as? [[Any]]).map { pairs in
                .map(pairs.compactMap { pair in
                    guard let key = build(pair[0]), let value = build(pair[1]) else { return nil }
                    return MessagePackValue.MapEntry(key, value)
                })
            }
        default: return nil
        }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test func vectorsAreThere() {
        #expect(Self.vectors.count == 46)
    }

    @Test(arguments: vectors)
    func encodesLikePythonMsgpack(_ vector: Vector) {
        #expect(Array(vector.value.encoded.readableBytesView) == vector.bytes)
    }

    @Test(arguments: vectors)
    func decodesPythonMsgpack(_ vector: Vector) throws {
        #expect(try MessagePackValue(decoding: ByteBuffer(bytes: vector.bytes)) == vector.value)
    }

    @Test(arguments: [
        [UInt8](), [0xC1], [0x92, 0x01], [0xD9], [0xD9, 0x05, 0x61], [0xA2, 0xFF, 0xFE], [0x01, 0x02],
        [0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0xDF, 0x7F, 0xFF, 0xFF, 0xFF],
        [UInt8](repeating: 0x91, count: 100) + [0x01],
    ])
    func rejectsMalformedInput(_ bytes: [UInt8]) {
        #expect(throws: MessagePackError.self) { try MessagePackValue(decoding: ByteBuffer(bytes: bytes)) }
    }

    @Test func readsWhatNotepackAddsBeyondPython() throws {
        // float32, negative fixint, ext (notepack's `undefined` is fixext 1 with type 0).
        #expect(try MessagePackValue(decoding: ByteBuffer(bytes: [0xCA, 0x3F, 0xC0, 0x00, 0x00])) == .float(1.5))
        #expect(try MessagePackValue(decoding: ByteBuffer(bytes: [0xD4, 0x00, 0x00])) == .ext(type: 0, data: [0]))
        #expect(MessagePackValue.ext(type: 0, data: [0]).encoded == ByteBuffer(bytes: [0xD4, 0x00, 0x00]))
    }
}
