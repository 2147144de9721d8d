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
