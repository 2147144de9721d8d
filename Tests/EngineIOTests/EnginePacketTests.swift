import NIOCore
import Testing

@testable import EngineIO

@Suite struct EnginePacketTests {
    @Test(arguments: [
        ("0{\"sid\":\"x\"}", EnginePacket.open("{\"sid\":\"x\"}")),
        ("1", .close),
        ("2", .ping("")),
        ("2probe", .ping("probe")),
        ("3probe", .pong("probe")),
        ("4hello", .message("hello")),
        ("4", .message("")),
        ("5", .upgrade),
        ("6", .noop),
        // The type digit is one byte: a combining mark after it is data, not part of the type.
        ("4\u{0301}x", .message("\u{0301}x")),
        ("2\u{0301}", .ping("\u{0301}")),
    ])
    func textRoundTrip(_ text: String, _ packet: EnginePacket) throws {
        #expect(try EnginePacket(text: text) == packet)
        #expect(packet.encoded == text)
    }

    @Test func binaryIsBase64BehindB() {
        #expect(EnginePacket.binaryMessage(ByteBuffer(bytes: [1, 2, 3, 4])).encoded == "bAQIDBA==")
    }

    @Test(arguments: ["", "7", "x", "9abc", "b"])
    func malformed(_ text: String) {
        #expect(throws: EngineProtocolError.self) { try EnginePacket(text: text) }
    }

    @Test func pollingPayloadSplitsOnRecordSeparator() throws {
        let body = ByteBuffer(string: "4hello\u{1E}2\u{1E}bAQIDBA==\u{1E}6")
        #expect(try PollingPayload.decode(body) == [
            .message("hello"), .ping(""), .binaryMessage(ByteBuffer(bytes: [1, 2, 3, 4])), .noop,
        ])
    }

    @Test(arguments: ["", "4a\u{1E}", "\u{1E}4a", "bnot base64!", "4a\u{1E}9", "b=AAA"])
    func malformedPayload(_ body: String) {
        #expect(throws: EngineProtocolError.self) { try PollingPayload.decode(ByteBuffer(string: body)) }
    }

    @Test func pollingPayloadJoins() {
        let joined = PollingPayload.encode([ByteBuffer(string: "4a"), ByteBuffer(string: "2")])
        #expect(String(buffer: joined) == "4a\u{1E}2")
    }

    /// RFC 6455 section 5.2: 7-bit, 16-bit and 64-bit payload lengths.
    @Test(arguments: [(0, 2), (124, 2), (125, 4), (65_534, 4), (65_535, 10), (70_000, 10)])
    func preparedFrameHeader(dataLength: Int, headerLength: Int) {
        let message = PreparedMessage(message: ByteBuffer(repeating: UInt8(ascii: "x"), count: dataLength))
        var frame = message.webSocketFrame
        #expect(frame.readableBytes == headerLength + dataLength + 1)
        #expect(frame.readInteger(as: UInt8.self) == 0x81)
        let length = frame.readInteger(as: UInt8.self)!
        switch headerLength {
        case 2: #expect(Int(length) == dataLength + 1)
        case 4: #expect(length == 126 && frame.readInteger(as: UInt16.self).map(Int.init) == dataLength + 1)
        default: #expect(length == 127 && frame.readInteger(as: UInt64.self).map(Int.init) == dataLength + 1)
        }
        #expect(frame.readString(length: 1) == "4")
        #expect(String(buffer: message.packet) == "4" + String(repeating: "x", count: dataLength))
    }

    /// Messages concatenated are the bytes each transport would write for them one by one.
    @Test func concatenatedMessages() throws {
        let messages = ["2[\"a\"]", String(repeating: "y", count: 200), "2[\"c\"]"].map { PreparedMessage(message: ByteBuffer(string: $0)) }
        let one = PreparedMessage(concatenating: messages)
        #expect(one.webSocketFrame == ByteBuffer(bytes: messages.flatMap { Array($0.webSocketFrame.readableBytesView) }))
        #expect(String(buffer: one.packet) == messages.map { String(buffer: $0.packet) }.joined(separator: "\u{1E}"))
        let payload = try PollingPayload.decode(one.packet)
        #expect(payload.count == 3)
    }
}

@Suite struct EngineRequestTests {
    @Test func queryItems() {
        let query = QueryItems(uri: "/socket.io/?EIO=4&transport=polling&t=abc&sid=s1&empty=&EIO=3")
        #expect(query["EIO"] == "4")
        #expect(query["transport"] == "polling")
        #expect(query["sid"] == "s1")
        #expect(query["empty"] == "")
        #expect(query["missing"] == nil)
        #expect(QueryItems(uri: "/socket.io/")["EIO"] == nil)
    }

    @Test func handshakeChecks() {
        let any = CORSPolicy.anyOrigin
        #expect(EngineHTTPError.check(query: QueryItems(uri: "/?EIO=4&transport=polling"), origin: nil, cors: any) == nil)
        #expect(EngineHTTPError.check(query: QueryItems(uri: "/?EIO=3&transport=polling"), origin: nil, cors: any) == .unsupportedProtocolVersion)
        #expect(EngineHTTPError.check(query: QueryItems(uri: "/?EIO=4&transport=flash"), origin: nil, cors: any) == .unknownTransport)
        let strict = CORSPolicy(list: "https://a.example")
        #expect(EngineHTTPError.check(query: QueryItems(uri: "/?EIO=4&transport=polling"), origin: "https://b.example", cors: strict) == .forbidden)
    }

    @Test func corsPolicy() {
        #expect(CORSPolicy(list: nil) == .anyOrigin)
        #expect(CORSPolicy(list: " * ") == .anyOrigin)
        let policy = CORSPolicy(list: "https://a.example, https://b.example")
        #expect(policy == .origins(["https://a.example", "https://b.example"]))
        #expect(policy.allows(origin: "https://b.example"))
        #expect(!policy.allows(origin: "https://c.example"))
        #expect(policy.allows(origin: nil))
        #expect(policy.allowOriginHeader(for: "https://a.example") == "https://a.example")
        #expect(policy.allowOriginHeader(for: "https://c.example") == nil)
        #expect(CORSPolicy.anyOrigin.allowOriginHeader(for: "https://c.example") == "*")
    }

    @Test func sessionIDsAreBase64URLAndFitInline() {
        let ids = (0..<100).map { _ in EngineServer.makeSessionID() }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.count == 15 && $0.utf8.count <= 15 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
    }

    @Test func openPacket() {
        var configuration = EngineConfiguration()
        configuration.pingInterval = .milliseconds(25_000)
        #expect(configuration.openPacketData(sid: "abc", upgrades: [.websocket])
            == #"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#)
    }
}
