import MessagePack
import NIOCore
import SocketIO
import Testing
import Vocabulary

@testable import RedisAdapter

/// What anyone with access to Redis could publish: wrong types select nobody and touch nothing,
/// as they do in `@socket.io/redis-adapter` (`new Set(opts.rooms)` of a string is one-letter rooms,
/// of a number or a map a TypeError); no number converts with a trap.
@Suite struct RedisHostileWireTests {
    private func broadcast(opts: MessagePackValue, nsp: MessagePackValue? = .string("/")) -> ByteBuffer {
        var packet: [MessagePackValue.MapEntry] = [
            .init(.string("type"), .uint(2)), .init(.string("data"), .array([.string("system_alert"), .map([:])])),
        ]
        if let nsp { packet.append(.init(.string("nsp"), nsp)) }
        return MessagePackValue.array([.string("intruder"), .map(packet), opts]).encoded
    }

    @Test(arguments: [
        MessagePackValue.string("admin"), .uint(5), .map(["admin": .bool(true)]), .bool(true),
        .array([.string("guest:g1"), .map([:])]), .array([.float(0.5)]), .array([.nil]),
    ])
    func roomsOfTheWrongTypeSelectNobody(_ rooms: MessagePackValue) {
        #expect(RedisBroadcast(decoding: broadcast(opts: .map(["rooms": rooms, "except": .array([])]))) == nil)
        #expect(RedisBroadcast(decoding: broadcast(opts: .map(["rooms": .array([]), "except": rooms]))) == nil)
    }

    @Test func optionsThatAreNoMapSelectNobody() {
        for opts in [MessagePackValue.nil, .uint(1), .string("x"), .array([])] {
            #expect(RedisBroadcast(decoding: broadcast(opts: opts)) == nil)
        }
    }

    @Test func absentRoomsMeanEverySocket() throws {
        let decoded = try #require(RedisBroadcast(decoding: broadcast(opts: .map([:]), nsp: nil)))
        #expect(decoded.options.rooms.isEmpty)
        #expect(decoded.packet.namespace == "/")
    }

    /// A packet with `data` twice: the first is the event, the second is still read, and a
    /// string in it that is not UTF-8 refuses the message, as decoding it whole does
    /// (`fuzz/regressions/FuzzRedisBroadcast/repeated-data-with-a-bad-string`).
    @Test func aRepeatedDataIsCheckedToo() throws {
        func raw(_ value: MessagePackValue) -> [UInt8] { Array(value.encoded.readableBytesView) }
        func message(secondData: [UInt8]) -> ByteBuffer {
            let packet = [0x83] + raw(.string("type")) + raw(.uint(2))
                + raw(.string("data")) + raw(.array([.string("system_alert"), .map([:])]))
                + raw(.string("data")) + secondData
            return ByteBuffer(bytes: [0x93] + raw(.string("intruder")) + packet + raw(.map([:])))
        }
        let decoded = try #require(RedisBroadcast(decoding: message(secondData: raw(.string("flags")))))
        #expect(decoded.packet.eventName == "system_alert")
        // 0xA5: a string of 5 bytes; 0xE6 begins a 3-byte UTF-8 sequence that "lag" does not continue.
        #expect(RedisBroadcast(decoding: message(secondData: [0xA5, 0xE6, 0x6C, 0x61, 0x67, 0x73])) == nil)
    }

    @Test func aNamespaceOfTheWrongTypeIsNoNamespace() {
        #expect(RedisBroadcast(decoding: broadcast(opts: .map([:]), nsp: .uint(0))) == nil)
    }

    @Test(arguments: [
        #"{"type":1e20}"#, #"{"type":-1}"#, #"{"type":2.5}"#, #"{"type":"5"}"#, #"{"type":1e308,"uid":"x"}"#,
        #"{"type":-9.3e18}"#, #"{"type":9223372036854775807}"#,
    ])
    func requestTypesThatAreNoneAreRefused(_ text: String) throws {
        #expect(ClusterRequest(json: try #require(JSONValue(parsing: text))) == nil)
    }

    @Test(arguments: [
        #"{"type":2,"uid":"x","opts":{"rooms":"admin","except":[]},"rooms":["admin"]}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":5},"rooms":["admin"]}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":{"admin":true}},"rooms":["admin"]}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":[{}]},"rooms":["admin"]}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":["guest:g1"],"except":"x"},"rooms":["admin"]}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":["guest:g1"]},"rooms":"admin"}"#,
        #"{"type":2,"uid":"x","opts":{"rooms":["guest:g1"]},"rooms":[true]}"#,
        #"{"type":2,"uid":"x","opts":"all","rooms":["admin"]}"#,
        #"{"type":4,"uid":"x","opts":{"rooms":"guest:g1"},"close":true}"#,
        #"{"type":4,"uid":"x","opts":{"rooms":["a"]},"close":true,"requestId":7}"#,
        #"{"type":4,"uid":5,"opts":{"rooms":["a"]}}"#,
        #"{"type":6,"uid":"x","data":"hello"}"#,
    ])
    func requestFieldsOfTheWrongTypeTouchNothing(_ text: String) throws {
        #expect(ClusterRequest(json: try #require(JSONValue(parsing: text))) == nil)
    }

    @Test func numericRoomsReadAsTheirText() throws {
        let json = try #require(JSONValue(parsing: #"{"type":2,"uid":"x","opts":{"rooms":[42],"except":[]},"rooms":[7]}"#))
        let request = try #require(ClusterRequest(json: json))
        #expect(request.options?.rooms == ["42"])
        #expect(request.rooms == ["7"])
    }
}

/// A Node server broadcasting a `Buffer`: an EVENT whose data holds `bin`, which a Socket.IO
/// server sends its clients as a BINARY_EVENT with placeholders and attachments.
@Suite struct RedisBinaryWireTests {
    @Test func aBufferBecomesAnAttachment() throws {
        let bytes = MessagePackValue.array([
            .string("nodeUid"),
            .map([.init(.string("type"), .uint(2)),
                  .init(.string("data"), .array([.string("image"), .map(["png": .binary([1, 2, 3]), "more": .array([.binary([4])])])])),
                  .init(.string("nsp"), .string("/"))]),
            .map(["rooms": .array([.string("guest:g1")]), "except": .array([]), "flags": .map([:])]),
        ]).encoded
        let broadcast = try #require(RedisBroadcast(decoding: bytes))
        #expect(broadcast.packet.kind == .binaryEvent)
        #expect(broadcast.packet.attachments.count == 2)
        // Numbered depth first in wire order, as socket.io-parser's deconstructPacket does.
        guard case .object(let members) = broadcast.packet.eventArguments.first else {
            Issue.record("no object argument")
            return
        }
        #expect(members["png"] == .placeholder(0))
        #expect(members["more"] == [.placeholder(1)])
        #expect(broadcast.packet.attachments == [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [4])])
        #expect(broadcast.packet.encoded.hasPrefix("52-[\"image\","))
        // And back: published the way Node publishes it, type 2 with the bytes in place.
        let again = try MessagePackValue(decoding: RedisBroadcast(uid: "me", packet: broadcast.packet, options: broadcast.options).encoded())
        #expect(again.arrayValue?[1]["type"] == .uint(2))
        #expect(again.arrayValue?[1]["data"] == .array([.string("image"), .map(["more": .array([.binary([4])]), "png": .binary([1, 2, 3])])]))
    }
}
