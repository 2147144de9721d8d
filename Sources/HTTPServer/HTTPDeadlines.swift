import NIOCore

/// How long a connection may take over each part of an HTTP/1.1 exchange.
///
/// A connection that sends nothing, or sends its request a byte at a time (slowloris), would
/// otherwise hold a file descriptor forever. While a request is being answered (a long-poll waits
/// up to the ping interval for packets) no deadline runs: the answer is the server's to give.
public struct HTTPDeadlines: Sendable {
    /// From the first byte of a request to the end of its head.
    public var head: TimeAmount
    /// From the end of the head to the end of the body.
    public var body: TimeAmount
    /// From the end of a response (or the connection's start) to the first byte of the next
    /// request. Longer than nginx's upstream keep-alive (60 s), so nginx is the one that closes
    /// an idle upstream connection, never in the middle of reusing it.
    public var idle: TimeAmount
    /// The most bytes a request head may take (Node's `maxHeaderSize` is 16 KiB); past it: 431.
    public var maxHeadBytes: Int

    public init(
        head: TimeAmount = .seconds(10), body: TimeAmount = .seconds(30), idle: TimeAmount = .seconds(75),
        maxHeadBytes: Int = 16 * 1024
    ) {
        self.head = head
        self.body = body
        self.idle = idle
        self.maxHeadBytes = maxHeadBytes
    }
}

/// Sees a request's bytes before NIO's decoder does, for the head's deadline and size bound,
/// which the decoder does not report: it speaks only once the head is complete.
///
/// Tells its `HTTPConnectionHandler`, which owns the deadlines; both live on the connection's
/// loop and leave the pipeline together when it upgrades to WebSocket.
final class HTTPRequestBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let name = "herald-http-bytes"
    weak var connection: HTTPConnectionHandler?
    private var context: ChannelHandlerContext?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends bytes beneath every HTTP handler, then closes the connection.
    func writeAndClose(_ bytes: ByteBuffer) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytes
        connection?.requestBytesWillArrive()
        context.fireChannelRead(data)
        // Counted after the decoder has read them: bytes that completed the head are not head bytes.
        connection?.requestBytesDidArrive(bytes)
    }
}
