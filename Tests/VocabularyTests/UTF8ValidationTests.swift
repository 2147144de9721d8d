import Testing

@testable import Vocabulary

/// Validated, never repaired: what `String(validating:as:)` accepts, and only that.
@Suite struct UTF8ValidationTests {
    @Test(arguments: [
        Array("plain".utf8), Array("héllo € 🎉".utf8), [], [0x00], [0xC3, 0x28], [0xF0, 0x9F, 0x98], [0xA3], [0xED, 0xA0, 0x80],
        [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], Array("ok".utf8) + [0xFF],
    ] as [[UInt8]])
    func agreesWithTheStandardLibrary(_ bytes: [UInt8]) {
        let ours = bytes.withUnsafeBytes(String.init(validatingUTF8Bytes:))
        #expect(ours == String(validating: bytes, as: UTF8.self))
    }
}
