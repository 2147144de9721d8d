import NIOCore
import Testing
import Vocabulary

@testable import SocketIO

/// Binary packets as a client sends them: a text header announcing N attachments, then N binary messages.
@Suite struct SocketIOPacketDecoderTests {
    private let placeholder: JSONValue = ["_placeholder": true, "num": 0]

    @Test func reassemblesABinaryEvent() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.receive(text: #"52-5["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#) == nil)
        #expect(decoder.isAwaitingAttachments)
        #expect(try decoder.receive(binary: ByteBuffer(bytes: [1, 2])) == nil)
        let packet = try #require(try decoder.receive(binary: ByteBuffer(bytes: [3])))
        #expect(packet.kind == .binaryEvent)
        #expect(packet.id == 5)
        #expect(packet.eventName == "up")
        #expect(packet.attachments == [ByteBuffer(bytes: [1, 2]), ByteBuffer(bytes: [3])])
        #expect(!decoder.isAwaitingAttachments)
        // The text form starts with the same header again.
        #expect(packet.encoded.hasPrefix("52-5[\"up\","))
    }

    @Test func reassemblesABinaryAck() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.receive(text: #"61-3[{"_placeholder":true,"num":0}]"#) == nil)
        let packet = try #require(try decoder.receive(binary: ByteBuffer(bytes: [9])))
        #expect(packet.kind == .binaryAck)
        #expect(packet.id == 3)
    }

    @Test func plainPacketsPassStraightThrough() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.receive(text: #"2["a",{"_placeholder":true,"num":7}]"#)?.eventName == "a")
        #expect(try decoder.receive(text: #"50-["b"]"#)?.kind == .binaryEvent)
    }

    @Test func refusesTextWhileAttachmentsAreAwaited() throws {
        var decoder = SocketIOPacketDecoder()
        _ = try decoder.receive(text: #"51-["up",{"_placeholder":true,"num":0}]"#)
        #expect(throws: SocketIOProtocolError.unexpectedText) { try decoder.receive(text: #"2["a"]"#) }
    }

    @Test func refusesBinaryNobodyAnnounced() {
        var decoder = SocketIOPacketDecoder()
        #expect(throws: SocketIOProtocolError.unexpectedBinary) { try decoder.receive(binary: ByteBuffer(bytes: [1])) }
    }

    @Test func boundsTheAttachmentBytes() throws {
        var decoder = SocketIOPacketDecoder(maxAttachmentBytes: 4)
        _ = try decoder.receive(text: #"52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        _ = try decoder.receive(binary: ByteBuffer(bytes: [1, 2, 3]))
        #expect(throws: SocketIOProtocolError.attachmentsTooLarge) { try decoder.receive(binary: ByteBuffer(bytes: [4, 5])) }
        // The refused packet is dropped: what follows is read afresh.
        #expect(try decoder.receive(text: #"2["next"]"#)?.eventName == "next")
    }

    @Test func boundsTheAttachmentCount() {
        var decoder = SocketIOPacketDecoder()
        #expect(throws: SocketIOProtocolError.invalidAttachments) { try decoder.receive(text: #"565-["up"]"#) }
    }

    @Test(arguments: [
        #"51-["up",{"_placeholder":true,"num":1}]"#,
        #"51-["up",{"_placeholder":true,"num":-1}]"#,
        #"51-["up",{"_placeholder":true,"num":0.5}]"#,
        #"51-["up",{"_placeholder":true,"num":1e300}]"#,
        #"51-["up",{"_placeholder":true,"num":"0"}]"#,
        #"51-["up",{"_placeholder":true}]"#,
        #"51-["up",[[{"_placeholder":true,"num":3}]]]"#,
    ])
    func refusesIllegalPlaceholders(_ header: String) throws {
        var decoder = SocketIOPacketDecoder()
        _ = try decoder.receive(text: header)
        #expect(throws: SocketIOProtocolError.invalidPlaceholder) { try decoder.receive(binary: ByteBuffer(bytes: [1])) }
    }
}
