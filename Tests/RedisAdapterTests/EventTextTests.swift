import MessagePack
import NIOCore
@testable import SocketIO
import Testing
import Vocabulary

@testable import RedisAdapter

/// A broadcast's text written from its MessagePack bytes (`EventText`) is the text the values
/// make of it (`Envelope.broadcast()`, then `SocketIOPacket.encoded`), refusals included.
@Suite struct EventTextTests {
    static let offset = RecoveryOffset(milliseconds: 1_700_000_000_000, sequence: 7)

    private func envelope(data: MessagePackValue, namespace: String = "/") throws -> RedisBroadcast.Envelope {
        let message = MessagePackValue.array([
            .string("emitter"),
            .map([.init(.string("type"), .uint(2)), .init(.string("data"), data), .init(.string("nsp"), .string(namespace))]),
            .map(["rooms": .array([.string("guest:g")]), "except": .array([]), "flags": .map([:])]),
        ]).encoded
        return try #require(RedisBroadcast.Envelope(decoding: message))
    }

    /// The text of the values' path, as the clients got it before.
    private func throughValues(_ envelope: RedisBroadcast.Envelope, offset: RecoveryOffset?) -> String? {
        guard let packet = envelope.broadcast()?.packet else { return nil }
        return (offset.map { packet.withOffset($0) } ?? packet).encoded
    }

    static let sameTextCases: [MessagePackValue] = [
        .array([.string("points_added")]),
        .array([.string("e"), .nil, .bool(true), .bool(false), .uint(0), .uint(127), .int(-32), .int(-1_000_000)]),
        .array([.string("e"), .uint(UInt64.max), .int(Int64.min), .uint(999_999_999_999_999), .uint(1_000_000_000_000_000)]),
        .array([.string("e"), .float(0.5), .float(-1.25e-300), .float(3), .float(.infinity), .float(.nan), .float(1e21)]),
        .array([.string("e"), .string("quote \" backslash \\ newline \n tab \t cr \r nul \u{0} bell \u{7} é 万 🎉")]),
        .array([.string("e"), .array([.array([.array([])])]), .map([:]), .map(["only": .array([.uint(1), .string("x")])])]),
        .array([.string("e"), .ext(type: 0, data: [0]), .map(["gone": .ext(type: 0, data: [0]), "kept": .uint(1)])]),
        .array([.string("e"), .map([.init(.uint(5), .string("five"))]), .map([.init(.int(-2), .nil)])]),
        .array([.string("e"), .map([.init(.bool(true), .uint(1))]), .map([.init(.array([.uint(1)]), .uint(2))])]),
        .array([.string("e"), .map([.init(.float(2), .uint(1))]), .map([.init(.ext(type: 3, data: [1]), .uint(2))])]),
    ]

    @Test(arguments: sameTextCases)
    func theTextIsTheValuesText(_ data: MessagePackValue) throws {
        let envelope = try envelope(data: data)
        for offset in [nil, Self.offset] {
            let text = try #require(envelope.eventText(offset: offset))
            #expect(String(buffer: text) == throughValues(envelope, offset: offset))
        }
    }

    /// Members keep the publisher's order; what they say is what the values say.
    @Test func objectsKeepTheirOrder() throws {
        let data = MessagePackValue.array([
            .string("points_added"),
            .map(["type": .string("points_added"), "guestId": .string("g1"), "amount": .uint(5), "nested": .map(["b": .uint(2), "a": .uint(1)])]),
        ])
        let envelope = try envelope(data: data)
        let text = String(buffer: try #require(envelope.eventText(offset: Self.offset)))
        #expect(text == #"2["points_added",{"type":"points_added","guestId":"g1","amount":5,"nested":{"b":2,"a":1}},"1700000000000-7"]"#)
        let reference = try #require(throughValues(envelope, offset: Self.offset))
        #expect(JSONValue(parsing: text.dropFirst()) == JSONValue(parsing: reference.dropFirst()))
        // A name given twice is written twice; JSON.parse (and this parser) keep the last, as the values do.
        let twice = try self.envelope(data: .array([.string("e"), .map([.init(.string("k"), .uint(1)), .init(.string("k"), .uint(2))])]))
        let twiceText = String(buffer: try #require(twice.eventText(offset: nil)))
        #expect(twiceText == #"2["e",{"k":1,"k":2}]"#)
        #expect(JSONValue(parsing: twiceText.dropFirst()) == JSONValue(parsing: try #require(throughValues(twice, offset: nil)).dropFirst()))
    }

    @Test func anotherNamespaceIsNamed() throws {
        let envelope = try envelope(data: .array([.string("e"), .uint(1)]), namespace: "/admin")
        #expect(String(buffer: try #require(envelope.eventText(offset: nil))) == #"2/admin,["e",1]"#)
        #expect(String(buffer: try #require(envelope.eventText(offset: nil))) == throughValues(envelope, offset: nil))
    }

    /// A `bin` is a binary event, and what JSON cannot carry is refused: both go through the
    /// values, which decide (a binary event with its attachments, or nothing).
    @Test func whatItDoesNotWriteIsLeftToTheValues() throws {
        let binary = try envelope(data: .array([.string("file"), .binary([1, 2, 3])]))
        #expect(binary.eventText(offset: nil) == nil)
        #expect(binary.broadcast()?.packet.kind == .binaryEvent)
        for refused: MessagePackValue in [
            .array([.string("e"), .ext(type: 5, data: [1])]),
            .array([.string("e"), .map(["k": .ext(type: 9, data: [])])]),
        ] {
            let envelope = try envelope(data: refused)
            #expect(envelope.eventText(offset: nil) == nil && envelope.broadcast() == nil, "\(refused)")
        }
    }

    /// Bytes the decoder refuses are refused here too: not UTF-8 (in a value or a key), nested
    /// past the decoder's bound (which the envelope's own bound keeps from here; checked alone).
    @Test func refusalsAgreeWithTheDecoder() throws {
        let deep = MessagePackValue.maxDepth
        for data: [UInt8] in [
            [0x92, 0xA1, 0x65, 0xA2, 0xC3, 0x28],                    // ["e", <not UTF-8>]
            [0x92, 0xA1, 0x65, 0x81, 0xA2, 0xC3, 0x28, 0xC0],        // ["e", {<not UTF-8>: nil}]
            [0x92, 0xA1, 0x65, 0x81, 0x91, 0xA2, 0xC3, 0x28, 0xC0],  // ["e", {[<not UTF-8>]: nil}]
            [0x92, 0xA1, 0x65, 0xC0, 0xC0],                          // a value after the data
            [0x92, 0xA1, 0x65] + Array(repeating: 0x91, count: deep - 2) + [0xC0],
            [0x92, 0xA1, 0x65] + Array(repeating: 0x91, count: deep - 1) + [0xC0],
            [0x92, 0xA1, 0x65] + Array(repeating: 0x91, count: deep - 3) + [0x81, 0xA1, 0x6B, 0xD4, 0x00, 0x00],
            [0x92, 0xA1, 0x65] + Array(repeating: 0x91, count: deep - 2) + [0x81, 0xA1, 0x6B, 0xD4, 0x00, 0x00],
        ] {
            var attachments: [ByteBuffer] = []
            let values = (try? MessagePackValue(decoding: ByteBuffer(bytes: data)))?.json(attachments: &attachments)
            let text = EventText.encode(data: ByteBuffer(bytes: data), namespace: "/", offset: nil)
            #expect((text == nil) == (values == nil), "\(data.prefix(8)) ... \(data.suffix(6))")
            if let text, let values { #expect(String(buffer: text) == "2" + values.jsonString) }
        }
    }
}
