import NIOCore
import Testing

@testable import MessagePack

/// Bytes no notepack.io ever wrote: each is refused with an error, never a trap or a huge allocation.
@Suite struct MessagePackHostileTests {
    private func decode(_ bytes: [UInt8]) -> MessagePackError? {
        do {
            _ = try MessagePackValue(decoding: ByteBuffer(bytes: bytes))
            return nil
        } catch {
            return error
        }
    }

    @Test func nestingPastTheBoundIsRefusedBeforeTheStackRunsOut() {
        #expect(decode(Array(repeating: 0x91, count: 100_000) + [0xC0]) == .tooDeep)
        #expect(decode(Array(repeating: 0x81, count: 10_000) + [0xC0]) == .tooDeep)
        #expect(decode(Array(repeating: 0x91, count: MessagePackValue.maxDepth - 1) + [0xC0]) == nil)
    }

    @Test(arguments: [
        [UInt8(0xDD), 0xFF, 0xFF, 0xFF, 0xFF],        // an array claiming 4 billion items
        [0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0],          // a map claiming as many
        [0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x61],          // a string claiming 4 GiB
        [0xC6, 0xFF, 0xFF, 0xFF, 0xFF],                // a bin claiming as much
        [0xC9, 0xFF, 0xFF, 0xFF, 0xFF, 0x00],          // an ext claiming as much
        [0x93, 0xA3, 0x61, 0x62],                      // truncated in the middle
        [0xCB, 0x00],                                  // a float64 with one byte
    ])
    func absurdLengthsAreTruncation(_ bytes: [UInt8]) {
        #expect(decode(bytes) == .truncated)
    }

    @Test func otherRefusals() {
        #expect(decode([0xC1]) == .invalidByte(0xC1))
        #expect(decode([0xA2, 0xC3, 0x28]) == .invalidUTF8)
        // A 4-byte sequence cut to 3 repairs to U+FFFD, also 3 bytes: it must not pass as that.
        #expect(decode([0xA3, 0xF0, 0x9F, 0x98]) == .invalidUTF8)
        #expect(decode([0xC0, 0xC0]) == .trailingBytes)
        #expect(decode([]) == .truncated)
    }
}
