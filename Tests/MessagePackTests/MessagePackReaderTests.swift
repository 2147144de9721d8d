import NIOCore
import Testing

@testable import MessagePack

/// The reader passes over exactly the bytes of one value and checks its framing as a whole
/// decode does; what it leaves (UTF-8) is found when the bytes it returned are decoded.
@Suite struct MessagePackReaderTests {
    @Test(arguments: MessagePackVectorTests.vectors)
    func aValuePassedOverIsItsBytes(_ vector: MessagePackVectorTests.Vector) throws {
        var reader = MessagePackReader(ByteBuffer(bytes: vector.bytes + [0xC0]))
        let raw = try reader.readRaw()
        #expect(Array(raw.readableBytesView) == vector.bytes)
        #expect(try MessagePackValue(decoding: raw) == MessagePackValue(decoding: ByteBuffer(bytes: vector.bytes)))
        #expect(try reader.read() == .nil && reader.isAtEnd)
    }

    @Test func headersReadOnlyTheirKind() throws {
        var reader = MessagePackReader(MessagePackValue.array([.map(["k": .uint(1)]), .string("x")]).encoded)
        #expect(try reader.readMapHeader() == nil)
        #expect(try reader.readArrayHeader() == 2)
        #expect(try reader.readArrayHeader() == nil)
        #expect(try reader.readMapHeader() == 1)
        #expect(try reader.read() == .string("k") && reader.read() == .uint(1))
        #expect(try reader.read() == .string("x") && reader.isAtEnd)
    }

    /// A header names its kind and length and leaves its body; a length beyond the bytes left
    /// is refused at the header, before anything is read or reserved for it.
    @Test func aHeaderSaysWhatFollows() throws {
        var reader = MessagePackReader(ByteBuffer(bytes: [0x93, 0xA2, 0x68, 0x69, 0xC4, 0x01, 0xFF, 0xD4, 0x00, 0x07, 0xCD, 0x01, 0x00]))
        #expect(try reader.readHeader() == .array(count: 3))
        #expect(try reader.readHeader() == .string(byteCount: 2))
        #expect(try String(buffer: reader.readBody(count: 2)) == "hi")
        #expect(try reader.readHeader() == .binary(byteCount: 1))
        #expect(try Array(reader.readBody(count: 1).readableBytesView) == [0xFF])
        #expect(try reader.readHeader() == .ext(type: 0, byteCount: 1))
        #expect(try Array(reader.readBody(count: 1).readableBytesView) == [0x07])
        #expect(try reader.readHeader() == .scalar(.uint(256)) && reader.isAtEnd)
        for lie: [UInt8] in [[0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0x82, 0xC0, 0xC0, 0xC0], [0xD9, 0x05, 0x61], [0xC8, 0x00, 0x02, 0x01, 0x00]] {
            var bytes = ByteBuffer(bytes: lie)
            #expect(throws: MessagePackError.truncated, "\(lie)") { try MessagePackHeader.read(from: &bytes) }
        }
        var never = ByteBuffer(bytes: [0xC1])
        #expect(throws: MessagePackError.invalidByte(0xC1)) { try MessagePackHeader.read(from: &never) }
    }

    private func passOver(_ bytes: [UInt8]) -> MessagePackError? {
        var reader = MessagePackReader(ByteBuffer(bytes: bytes))
        do {
            _ = try reader.readRaw(depth: 0)
            return nil
        } catch {
            return error
        }
    }

    @Test func framingIsCheckedAsADecodeChecksIt() {
        #expect(passOver(Array(repeating: 0x91, count: 100_000) + [0xC0]) == .tooDeep)
        #expect(passOver(Array(repeating: 0x91, count: MessagePackValue.maxDepth - 1) + [0xC0]) == nil)
        for lie: [UInt8] in [[0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0], [0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x61],
                             [0xC6, 0xFF, 0xFF, 0xFF, 0xFF], [0xC9, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], [0x93, 0xA3, 0x61, 0x62], [0xCB, 0x00]] {
            #expect(passOver(lie) == .truncated, "\(lie)")
        }
        #expect(passOver([0x92, 0xC1, 0xC0]) == .invalidByte(0xC1))
        #expect(MessagePackReader(ByteBuffer()).isAtEnd)
        var empty = MessagePackReader(ByteBuffer())
        #expect(throws: MessagePackError.truncated) { try empty.readArrayHeader() }
        // Not UTF-8: passed over, refused when decoded.
        var reader = MessagePackReader(ByteBuffer(bytes: [0xA2, 0xC3, 0x28]))
        let raw = try? reader.readRaw()
        #expect(raw?.readableBytes == 3)
        #expect(throws: MessagePackError.invalidUTF8) { try MessagePackValue(decoding: raw ?? ByteBuffer()) }
    }
}
