import Foundation
import ExtrasBase64
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// Microseconds since the epoch: events carry their publish time in it (`sentAt`).
func wallClockMicroseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1_000
}

/// One Socket.IO client over a raw WebSocket, on the load generator's event loops: it CONNECTs
/// with its token, answers pings, and records every event's latency and `eventId`.
///
/// Not Sendable: it lives on its channel's loop, as NIO's handlers do.
final class LoadSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let token: String
    private let connected: EventLoopPromise<Void>
    private let recorder: NIOLoopBoundBox<LoopRecorder>
    private var isConnected = false
    /// Event ids seen by this socket: a second copy is a duplicate.
    private var seen = Set<Substring>()

    init(token: String, connected: EventLoopPromise<Void>, recorder: NIOLoopBoundBox<LoopRecorder>) {
        self.token = token
        self.connected = connected
        self.recorder = recorder
    }

    /// CONNECT goes out at once: the open packet, which the server sends in the same write as
    /// the 101 answer, does not reliably reach a handler installed after NIO's client upgrade,
    /// and a load client needs nothing from it (the server accepts CONNECT as soon as the
    /// WebSocket is up).
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(#"40{"token":"\#(token)"}"#, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text else {
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        var payload = frame.unmaskedData
        guard let text = payload.readString(length: payload.readableBytes) else { return }
        if text.hasPrefix("42") {
            receiveEvent(text)
        } else if text == "2" {
            send("3", context: context)
        } else if text.hasPrefix("40") {
            isConnected = true
            recorder.value.connected += 1
            connected.succeed()
        } else if text.hasPrefix("44") {
            connected.fail(LoadTestError("refused: \(text)"))
            context.close(promise: nil)
        }
    }

    private func receiveEvent(_ text: String) {
        guard let eventId = Self.field(text, "\"eventId\":\""), let sentAt = Self.number(text, "\"sentAt\":") else { return }
        if seen.insert(eventId).inserted {
            let now = wallClockMicroseconds()
            recorder.value.record(latencyMicroseconds: now > sentAt ? now - sentAt : 0)
        } else {
            recorder.value.duplicated += 1
        }
    }

    /// The string after `key` up to the next quote (event ids have no escapes).
    static func field(_ text: String, _ key: String) -> Substring? {
        guard let start = text.range(of: key)?.upperBound, let end = text[start...].firstIndex(of: "\"") else { return nil }
        return text[start..<end]
    }

    static func number(_ text: String, _ key: String) -> UInt64? {
        guard let start = text.range(of: key)?.upperBound else { return nil }
        return UInt64(text[start...].prefix { $0.isNumber })
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(string: text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isConnected { recorder.value.disconnected += 1 }
        connected.fail(LoadTestError("closed before CONNECT"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connected.fail(error)
        context.close(promise: nil)
    }
}

/// Sends the HTTP request that asks to upgrade to WebSocket, once the TCP connection is up.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let name = "load-upgrade-request"
    private let host: String
    private let path: String

    init(host: String, path: String) {
        self.host = host
        self.path = path
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A response that is not the upgrade: the server refused it.
        if case .head(let head) = unwrapInboundIn(data) {
            context.fireErrorCaught(LoadTestError("upgrade refused: \(head.status.code)"))
        }
    }
}

/// Opens one load socket: TCP (from `source`), the WebSocket upgrade, the Socket.IO CONNECT.
enum LoadSocket {
    static func open(
        target: SocketAddress,
        host: String,
        source: SocketAddress?,
        token: String,
        group: any EventLoopGroup,
        recorders: LoadRecorders
    ) -> EventLoopFuture<any Channel> {
        let eventLoop = group.next()
        let connected = eventLoop.makePromise(of: Void.self)
        let recorder = recorders.recorder(on: eventLoop)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                let key = Base64.encodeToString(bytes: (0..<16).map { _ in UInt8.random(in: 0...255) })
                let upgrader = NIOWebSocketClientUpgrader(requestKey: key, maxFrameSize: 1 << 20) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            LoadSocketHandler(token: token, connected: connected, recorder: recorder))
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(name: UpgradeRequestHandler.name, promise: nil)
                        })
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        UpgradeRequestHandler(host: host, path: "/socket.io/?EIO=4&transport=websocket"),
                        name: UpgradeRequestHandler.name
                    )
                }
            }
        if let source { bootstrap = bootstrap.bind(to: source) }
        return bootstrap.connect(to: target).flatMap { channel in
            connected.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }.flatMapError { error in
            connected.fail(error)
            return eventLoop.makeFailedFuture(error)
        }
    }
}

/// A failure of the load generator, told in one line.
struct LoadTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
