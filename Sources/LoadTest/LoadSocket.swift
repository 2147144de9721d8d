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
    private let recorder: NIOLoopBoundBox<Tally>
    private var isConnected = false
    /// Hashes of the event ids seen by this socket: a second copy is a duplicate.
    private var seen = Set<UInt64>()

    init(token: String, connected: EventLoopPromise<Void>, recorder: NIOLoopBoundBox<Tally>) {
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
        // Server frames are not masked: the payload is a slice of the read buffer, no copy.
        let payload = frame.unmaskedData
        if let event = payload.withUnsafeReadableBytes(EventFields.init) {
            receive(event)
            return
        }
        guard let text = payload.getString(at: payload.readerIndex, length: payload.readableBytes) else { return }
        if text == "2" {
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

    private func receive(_ event: EventFields) {
        if seen.insert(event.idHash).inserted {
            recorder.value.record(sentAt: event.sentAt, now: wallClockMicroseconds())
        } else {
            recorder.value.duplicated += 1
        }
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

/// The two fields of a load event the generator needs, read straight from the frame's bytes.
///
/// At half a million deliveries a second, turning each frame into a `String` and searching it
/// through Foundation took most of the load generator's CPU (perf): the client, not the gateway,
/// was the limit. Event ids are compared by a 64-bit FNV-1a hash of their bytes.
struct EventFields {
    let idHash: UInt64
    let sentAt: UInt64

    /// Nil unless `bytes` is a Socket.IO EVENT (`42[...]`) carrying `"eventId":"..."` and its
    /// publish time: `"sentAt":<µs>` (events the generator put into Redis), `sentAt=<µs>` in the
    /// description (events posted to the points API, stamped when the POST was written) or
    /// `"timestamp":<ms>` (other events of the points API, stamped at commit).
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "4"), bytes[1] == UInt8(ascii: "2"),
              let id = Self.end(of: #""eventId":""#, in: bytes)
        else { return nil }
        let time: Int, scale: UInt64
        if let sentAt = Self.end(of: #""sentAt":"#, in: bytes) ?? Self.end(of: "sentAt=", in: bytes) {
            (time, scale) = (sentAt, 1)
        } else if let timestamp = Self.end(of: #""timestamp":"#, in: bytes) {
            (time, scale) = (timestamp, 1000)
        } else {
            return nil
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = id
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01b3
            index += 1
        }
        var sentAt: UInt64 = 0
        index = time
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            sentAt = sentAt &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > time else { return nil }
        self.idHash = hash
        self.sentAt = sentAt * scale
    }

    /// The offset just past the first occurrence of `key` in `bytes`.
    static func end(of key: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        let pattern = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
        var start = 0
        while start <= bytes.count - pattern.count {
            if bytes[start] == first, memcmp(bytes.baseAddress! + start, pattern.baseAddress!, pattern.count) == 0 {
                return start + pattern.count
            }
            start += 1
        }
        return nil
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
        if let source {
            // IP_BIND_ADDRESS_NO_PORT (Linux): the port is chosen at connect(2), per destination,
            // instead of at bind(2), which searched every local port in use (most of a 50,000
            // connection ramp was that search, in the kernel).
            let bindAddressNoPort = ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24))
            bootstrap = bootstrap.channelOption(bindAddressNoPort, value: 1).bind(to: source)
        }
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
