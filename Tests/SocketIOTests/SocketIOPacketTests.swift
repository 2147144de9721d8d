import Foundation
import Testing
import Vocabulary

@testable import SocketIO

@Suite struct SocketIOPacketTests {
    @Test(arguments: [
        ("0", SocketIOPacket(kind: .connect)),
        ("0{\"token\":\"t\"}", SocketIOPacket(kind: .connect, data: ["token": "t"])),
        ("0/admin,", SocketIOPacket(kind: .connect, namespace: "/admin")),
        ("0/admin,{\"a\":1}", SocketIOPacket(kind: .connect, namespace: "/admin", data: ["a": 1])),
        ("1", SocketIOPacket(kind: .disconnect)),
        ("1/admin,", SocketIOPacket(kind: .disconnect, namespace: "/admin")),
        ("2[\"hello\",1]", SocketIOPacket.event("hello", [1])),
        ("212[\"hello\"]", SocketIOPacket.event("hello", [], id: 12)),
        ("2/chat,7[\"m\",{\"x\":null}]", SocketIOPacket.event("m", [["x": .null]], namespace: "/chat", id: 7)),
        ("312[{\"ok\":true}]", SocketIOPacket(kind: .ack, id: 12, data: [["ok": true]])),
        ("4{\"message\":\"no\"}", SocketIOPacket(kind: .connectError, data: ["message": "no"])),
        ("50-[\"up\"]", SocketIOPacket(kind: .binaryEvent, data: ["up"])),
        // Delimiters are bytes, not Characters: U+0601 (a prepended concatenation mark) makes one
        // grapheme of itself and the "," after it, and a Character search once ran the namespace
        // on past its comma (found by FuzzSocketIOPacket, fuzz/regressions).
        ("0/\r2[\u{0601},", SocketIOPacket(kind: .connect, namespace: "/\r2[\u{0601}")),
        ("2/\u{0601},7[\"m\"]", SocketIOPacket.event("m", [], namespace: "/\u{0601}", id: 7)),
    ])
    func roundTrip(_ text: String, _ packet: SocketIOPacket) throws {
        #expect(try SocketIOPacket(decoding: text) == packet)
        let reencoded = try SocketIOPacket(decoding: packet.encoded)
        #expect(reencoded == packet)
    }

    @Test(arguments: [
        ("", SocketIOProtocolError.invalidPacketType),
        ("7", .invalidPacketType),
        ("x", .invalidPacketType),
        ("2[", .invalidJSON),
        ("2[\"a\"", .invalidJSON),
        ("2{\"a\":1}", .invalidPayload),
        ("2[]", .invalidPayload),
        ("2[1,2]", .invalidPayload),
        ("2[\"connect\"]", .invalidPayload),
        ("2[\"disconnect\"]", .invalidPayload),
        ("2", .invalidPayload),
        ("0[1]", .invalidPayload),
        ("0\"s\"", .invalidPayload),
        ("1{}", .invalidPayload),
        ("3{}", .invalidPayload),
        ("5[\"a\"]", .invalidAttachments),
        ("5x-[\"a\"]", .invalidAttachments),
        ("5999-[\"a\"]", .invalidAttachments),
        ("21234567890123456[\"a\"]", .invalidAckID),
        // Only ASCII digits are digits: 万 is a whole number (10,000) to `Character`, and once trapped
        // converting to the packet type (the Engine.IO message `4万`); fullwidth and Arabic-Indic
        // digits read as 5 and 2.
        ("万", .invalidPacketType),
        ("万[\"a\"]", .invalidPacketType),
        ("4万", .invalidJSON),
        ("\u{FF15}1-[\"a\"]", .invalidPacketType),
        ("\u{0662}[\"a\"]", .invalidPacketType),
        ("5+1-[\"a\"]", .invalidAttachments),
        ("5-1-[\"a\"]", .invalidAttachments),
        ("5\u{FF11}-[\"a\"]", .invalidAttachments),
        ("599999999999999999999-[\"a\"]", .invalidAttachments),
        ("2\u{FF11}[\"a\"]", .invalidJSON),
        ("51-[\"up\",{\"_placeholder\":true,\"num\":0}]", .unexpectedText),
        // The ack id's digits end at the first byte that is not one, combining mark or not.
        ("27\u{0301}[\"a\"]", .invalidJSON),
        ("5\u{0601}-[\"a\"]", .invalidAttachments),
    ])
    func rejects(_ text: String, _ error: SocketIOProtocolError) {
        #expect(throws: error) { try SocketIOPacket(decoding: text) }
    }

    @Test func eventAccessors() throws {
        let packet = try SocketIOPacket(decoding: "2[\"subscribe\",{\"channel\":\"guest:g\"}]")
        #expect(packet.eventName == "subscribe")
        #expect(packet.eventArguments == [["channel": "guest:g"]])
    }

    @Test func jsonNumbersPrintLikeJavaScript() {
        #expect(JSONValue.number(3).jsonString == "3")
        #expect(JSONValue.number(1.5).jsonString == "1.5")
        #expect(JSONValue.number(1_732_000_000_000).jsonString == "1732000000000")
        #expect(JSONValue.array(["a/b", .null, true]).jsonString == #"["a/b",null,true]"#)
        #expect(JSONValue(parsing: "{\"a\":[1,\"x\",false,null]}") == ["a": [1, "x", false, .null]])
        #expect(JSONValue(parsing: "{") == nil)
    }
}
