import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import EngineIO

/// The WebSocket handlers of a session alone, on an `EmbeddedChannel`: each frame RFC 6455 says
/// must fail the connection gets its close frame with the right code, and the connection closes.
@Suite struct WebSocketRefusalTests {
    static let maxPayload = 1_000

    /// NIO's decoder and encoder (what the upgrader installs, without its error handler), then Herald's.
    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(WebSocketFrameEncoder())
        try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: Self.maxPayload)))
        _ = try EngineServer.addWebSocketHandlers(to: channel, maxPayload: Self.maxPayload)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// A client frame: masked unless told otherwise, with the given first byte (FIN, RSV, opcode).
    private func frame(_ first: UInt8, _ payload: [UInt8], masked: Bool = true, length: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(first)
        let count = length ?? payload.count
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch count {
        case ..<126: buffer.writeInteger(maskBit | UInt8(count))
        case ..<65_536: buffer.writeInteger(maskBit | 126); buffer.writeInteger(UInt16(count))
        default: buffer.writeInteger(maskBit | 127); buffer.writeInteger(UInt64(count))
        }
        if masked {
            let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]
            buffer.writeBytes(key)
            buffer.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset % 4] })
        } else {
            buffer.writeBytes(payload)
        }
        return buffer
    }

    /// The close code the server sent, and whether the channel is closed.
    private func closeCode(after input: ByteBuffer...) throws -> (code: UInt16?, closed: Bool) {
        try closeCode(after: input)
    }

    private func closeCode(after input: [ByteBuffer]) throws -> (code: UInt16?, closed: Bool) {
        let channel = try makeChannel()
        for bytes in input { try channel.writeInbound(bytes) }
        channel.embeddedEventLoop.run()
        var out = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
        var code: UInt16?
        // A close frame from the server: 0x88, length, then the code.
        if out.readableBytes >= 4, out.getInteger(at: out.readerIndex, as: UInt8.self) == 0x88 {
            code = out.getInteger(at: out.readerIndex + 2, as: UInt16.self)
        }
        return (code, !channel.isActive)
    }

    @Test func anOversizeFrameIsTooLarge() throws {
        let result = try closeCode(after: frame(0x81, Array(repeating: 0x61, count: Self.maxPayload + 1)))
        #expect(result.code == 1009)
        #expect(result.closed)
    }

    @Test(arguments: [UInt8(0x83), 0x84, 0x87, 0x8B, 0x8F])
    func aReservedOpcodeIsAProtocolError(_ first: UInt8) throws {
        let result = try closeCode(after: frame(first, [0x34]))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test(arguments: [UInt8(0xC1), 0xA1, 0x91])
    func reservedBitsAreAProtocolError(_ first: UInt8) throws {
        let result = try closeCode(after: frame(first, Array("4x".utf8)))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func anUnmaskedClientFrameIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x81, Array("40".utf8), masked: false))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func aStrayContinuationIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x80, Array("4x".utf8)))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func aNewMessageInsideAFragmentedOneIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x01, Array("4".utf8)), frame(0x81, Array("4x".utf8)))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func aControlFrameOver125BytesIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x89, Array(repeating: 0x70, count: 126)))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func aFragmentedControlFrameIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x09, [1]))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
    func aBadCloseCodeIsAProtocolError(_ code: UInt16) throws {
        let result = try closeCode(after: frame(0x88, [UInt8(code >> 8), UInt8(code & 0xFF)]))
        #expect(result.code == 1002)
        #expect(result.closed)
    }

    @Test func aOneByteCloseBodyIsAProtocolError() throws {
        let result = try closeCode(after: frame(0x88, [0x03]))
        #expect(result.code == 1002)
    }

    @Test func aCloseReasonThatIsNotUTF8IsInconsistentData() throws {
        let result = try closeCode(after: frame(0x88, [0x03, 0xE8, 0xC3, 0x28]))
        #expect(result.code == 1007)
        #expect(result.closed)
    }

    @Test(arguments: [[UInt8(0x34), 0xC3, 0x28], [0x34, 0xED, 0xA0, 0x80], [0x34, 0xFF]])
    func textThatIsNotUTF8IsInconsistentData(_ payload: [UInt8]) throws {
        let result = try closeCode(after: frame(0x81, payload))
        #expect(result.code == 1007)
        #expect(result.closed)
    }

    @Test func textSplitInsideACharacterIsFine() throws {
        // "4é" sent as two fragments that split é's two bytes: valid once merged.
        let result = try closeCode(after: frame(0x01, [0x34, 0xC3]), frame(0x80, [0xA9]))
        #expect(result.code == nil)
        #expect(!result.closed)
    }

    @Test func fragmentsOverTheMessageBoundAreTooLarge() throws {
        let half = Array(repeating: UInt8(0x61), count: Self.maxPayload / 2 + 1)
        let result = try closeCode(after: frame(0x01, [0x34] + half), frame(0x80, half))
        #expect(result.code == 1009)
        #expect(result.closed)
    }

    @Test func tooManyFragmentsAreTooLarge() throws {
        let parts = (0..<EngineWebSocketHandler.maxFragments).map { _ in frame(0x00, []) }
        let result = try closeCode(after: [frame(0x01, [0x34])] + parts)
        #expect(result.code == 1009)
        #expect(result.closed)
    }

    @Test func aPingBetweenFragmentsIsAnsweredAndTheMessageStaysWhole() throws {
        let channel = try makeChannel()
        try channel.writeInbound(frame(0x01, [0x34, 0xC3]))
        try channel.writeInbound(frame(0x89, [7]))
        try channel.writeInbound(frame(0x80, [0xA9]))
        var out = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
        #expect(Array(out.readableBytesView) == [0x8A, 1, 7])
        #expect(channel.isActive)
    }

    @Test func aValidCloseIsAnsweredAndCloses() throws {
        let result = try closeCode(after: frame(0x88, [0x03, 0xE8]))
        #expect(result.code == 1000)
        #expect(result.closed)
    }

    @Test func aPingIsAnsweredWithItsPayload() throws {
        let channel = try makeChannel()
        try channel.writeInbound(frame(0x89, [1, 2, 3]))
        var out = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
        #expect(Array(out.readableBytesView) == [0x8A, 3, 1, 2, 3])
        #expect(channel.isActive)
    }

    /// The handler and its transport hold each other; the session's end must free both (the
    /// pair once outlived every connection).
    @Test func aClosedSessionLeavesNothingBehind() throws {
        weak var weakTransport: WebSocketTransport?
        weak var weakSocket: EngineSocket?
        try {
            let channel = try makeChannel()
            let handler = try channel.pipeline.syncOperations.handler(type: EngineWebSocketHandler.self)
            let transport = WebSocketTransport(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            let socket = EngineSocket(
                id: "sid", eventLoop: channel.eventLoop, handshake: .init(), configuration: EngineConfiguration(),
                transport: transport
            ) { _ in }
            handler.attach(session: NIOLoopBound(socket, eventLoop: channel.eventLoop), transport: transport)
            weakTransport = transport
            weakSocket = socket
            try channel.close().wait()
            channel.embeddedEventLoop.run()
        }()
        #expect(weakTransport == nil)
        #expect(weakSocket == nil)
    }
}
