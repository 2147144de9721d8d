import NIOCore
import NIOWebSocket
import Vocabulary

/// The WebSocket transport as its session sees it.
///
/// Sendable (only immutable Sendable state): the session may live on another event loop than
/// the channel when a polling session upgraded, so every call hops to the channel's loop.
final class WebSocketTransport: EngineTransport, Sendable {
    let name = TransportName.websocket
    private let handler: NIOLoopBound<EngineWebSocketHandler>

    init(handler: NIOLoopBound<EngineWebSocketHandler>) {
        self.handler = handler
    }

    func send(_ packet: EnginePacket) {
        let handler = self.handler
        if handler.eventLoop.inEventLoop {
            handler.value.write(packet)
        } else {
            handler.eventLoop.execute { handler.value.write(packet) }
        }
    }

    func send(_ message: PreparedMessage) {
        let handler = self.handler
        if handler.eventLoop.inEventLoop {
            handler.value.write(message)
        } else {
            handler.eventLoop.execute { handler.value.write(message) }
        }
    }

    func write(_ message: PreparedMessage) -> Bool {
        let handler = self.handler
        if handler.eventLoop.inEventLoop { return handler.value.queue(message) }
        // A session upgraded from polling on another loop: no batching across the hop.
        handler.eventLoop.execute { handler.value.write(message) }
        return false
    }

    func flushWrites() {
        let handler = self.handler
        if handler.eventLoop.inEventLoop {
            handler.value.flushQueued()
        } else {
            handler.eventLoop.execute { handler.value.flushQueued() }
        }
    }

    func close(notifyPeer: Bool) {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.close(code: notifyPeer ? .goingAway : .normalClosure) }
    }
}

/// The channel handler under a WebSocket session: frames in, packets to the session, packets out.
///
/// The one handler above NIO's frame decoder and encoder. It refuses the frames RFC 6455 says
/// must fail the connection (`WebSocketFrameValidator`), puts fragmented messages together
/// (bounded like one frame), and answers the decoder's errors with their close frame. Those were
/// three handlers of their own (the validator, NIO's aggregator and its protocol error handler),
/// and each handler costs every idle connection its pipeline context, ~100 bytes (heaptrack).
///
/// Not Sendable: it lives on its channel's event loop, as NIO's handlers do.
final class EngineWebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// A message arriving in fragments (RFC 6455 5.4); boxed, since most connections never have one.
    private final class Fragments {
        let opcode: WebSocketOpcode
        var data: ByteBuffer
        var count = 1

        init(opcode: WebSocketOpcode, data: ByteBuffer) {
            self.opcode = opcode
            self.data = data
        }
    }

    /// A message, whole or in fragments, may take this many bytes (Engine.IO's `maxPayload`).
    private let maxMessageBytes: Int
    static let maxFragments = 1024
    private var fragments: Fragments?
    private var context: ChannelHandlerContext?
    /// The encoder's context: prebuilt broadcast frames are written beneath the encoder.
    private var frameContext: ChannelHandlerContext?
    private var session: NIOLoopBound<EngineSocket>?
    private(set) var transport: WebSocketTransport?
    private var closing = false
    /// Broadcast frames were written beneath the encoder and not flushed yet.
    private var hasQueued = false
    /// Inside a read: what a received frame makes us send (a CONNECT's reply and `connected`, a
    /// pong) waits for `channelReadComplete`, so it leaves in one write (one syscall, not one each).
    private var reading = false
    private var flushAfterRead = false

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Connects the handler to its session; called once, before any frame is read.
    func attach(session: NIOLoopBound<EngineSocket>, transport: WebSocketTransport) {
        self.session = session
        self.transport = transport
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.frameContext = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.frameContext = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once we have sent our close frame, nothing more the client sends is read (RFC 6455 7.1.1).
        guard !closing else { return }
        reading = true
        let frame = unwrapInboundIn(data)
        if let refusal = WebSocketFrameValidator.refusal(of: frame) { return close(code: refusal) }
        switch frame.opcode {
        case .text, .binary:
            // A new message while another is still in fragments (RFC 6455 5.4).
            guard fragments == nil else { return close(code: .protocolError) }
            if frame.fin {
                receive(frame.opcode, frame.unmaskedData)
            } else if frame.length > maxMessageBytes {
                close(code: .messageTooLarge)
            } else {
                fragments = Fragments(opcode: frame.opcode, data: frame.unmaskedData)
            }
        case .continuation:
            guard let fragments else { return close(code: .protocolError) }
            fragments.count += 1
            guard fragments.count <= Self.maxFragments, fragments.data.readableBytes + frame.length <= maxMessageBytes else {
                self.fragments = nil
                return close(code: .messageTooLarge)
            }
            var part = frame.unmaskedData
            fragments.data.writeBuffer(&part)
            if frame.fin {
                self.fragments = nil
                receive(fragments.opcode, fragments.data)
            }
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
        case .connectionClose:
            close(code: .normalClosure)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if flushAfterRead {
            flushAfterRead = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// A whole message, text or binary.
    private func receive(_ opcode: WebSocketOpcode, _ data: ByteBuffer) {
        if opcode == .binary { return deliver(.binaryMessage(data)) }
        // Not repaired: a text message that is not UTF-8 fails the connection (RFC 6455 8.1).
        // Checked on the whole message, since fragments may split a character.
        guard let text = data.withUnsafeReadableBytes(String.init(validatingUTF8Bytes:)) else {
            return close(code: .dataInconsistentWithMessage)
        }
        do {
            deliver(try EnginePacket(text: text))
        } catch {
            fail(.parseError)
        }
    }

    private func deliver(_ packet: EnginePacket) {
        guard let session, let transport else { return }
        if session.eventLoop.inEventLoop {
            session.value.receive(packet, from: transport)
        } else {
            session.eventLoop.execute { session.value.receive(packet, from: transport) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.transportClose)
        context.fireChannelInactive()
    }

    /// A peer that reads nothing while we queue past the bound is cut off (SPEC 5.2).
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable {
            context.close(promise: nil)
        }
        context.fireChannelWritabilityChanged()
    }

    /// The frame decoder's errors get their close frame (a frame over the bound: 1009; a control
    /// frame that is fragmented or over 125 bytes: 1002), then the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            close(code: .messageTooLarge)
        case NIOWebSocketError.fragmentedControlFrame, NIOWebSocketError.multiByteControlFrameLength:
            close(code: .protocolError)
        default:
            context.close(promise: nil)
        }
    }

    /// Tells the session its transport is gone, once.
    ///
    /// Also lets go of the transport, which holds this handler: the pair was a reference cycle that
    /// outlived the connection, about 150 bytes of every WebSocket session ever opened (the soak
    /// benchmark's RSS rose linearly with sessions, with or without a Socket.IO CONNECT).
    private func fail(_ reason: EngineCloseReason) {
        guard let session, let transport else { return }
        self.session = nil
        self.transport = nil
        if session.eventLoop.inEventLoop {
            session.value.transportDidClose(transport, reason: reason)
        } else {
            session.eventLoop.execute { session.value.transportDidClose(transport, reason: reason) }
        }
        context?.close(promise: nil)
    }

    // MARK: Writing (on the channel's loop)

    func write(_ packet: EnginePacket) {
        guard !closing, let context else { return }
        switch packet {
        case .binaryMessage(let data):
            write(WebSocketFrame(fin: true, opcode: .binary, data: data))
        default:
            var buffer = context.channel.allocator.buffer(capacity: packet.encodedSizeEstimate)
            packet.write(to: &buffer)
            write(WebSocketFrame(fin: true, opcode: .text, data: buffer))
        }
    }

    func write(_ message: PreparedMessage) {
        guard !closing, let frameContext else { return }
        frameContext.writeAndFlush(NIOAny(message.webSocketFrame), promise: nil)
    }

    /// Writes a broadcast frame without flushing; true when it is the first since the last flush.
    func queue(_ message: PreparedMessage) -> Bool {
        guard !closing, let frameContext else { return false }
        frameContext.write(NIOAny(message.webSocketFrame), promise: nil)
        defer { hasQueued = true }
        return !hasQueued
    }

    func flushQueued() {
        guard hasQueued else { return }
        hasQueued = false
        frameContext?.flush()
    }

    private func write(_ frame: WebSocketFrame) {
        guard !closing, let context else { return }
        if reading {
            context.write(wrapOutboundOut(frame), promise: nil)
            flushAfterRead = true
        } else {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
    }

    func close(code: WebSocketErrorCode) {
        guard !closing, let context else { return }
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        closing = true
        // Close once the close frame is out, so the client learns why.
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
