// The HTTP request path of a node: NIO's HTTP/1.1 server pipeline with pipelining assistance,
// error handling and the WebSocket upgrader, then HTTPConnectionHandler routing to the Engine.IO
// endpoint (handshakes, polling GET/POST, upgrades and the WebSocket frames after one) and to a
// plain endpoint under /api/ — on an EmbeddedChannel set up by HTTPNodeServer.configure, as
// every accepted connection is.
//
// The input is the bytes a client sends. When it holds `@SID@`, the harness first opens a
// polling session with a handshake of its own and puts that session's id there, so that polling
// requests and upgrades of a live session are reached.
//
// Invariants: whatever is answered starts as an HTTP/1.x status line; after the input and a
// shutdown of the polling sessions nothing is left unread in the pipeline.
import EngineIO
import FuzzSupport
@testable import HTTPServer
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import SocketIO

/// An endpoint that answers with the request's body, like the points API's simplest route.
struct EchoEndpoint: HTTPEndpoint {
    func handles(path: Substring) -> Bool { path.hasPrefix("/api/") }
    var maxBodySize: Int { 1024 }
    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        let responder = HTTPResponder(channel: channel, request: head)
        if head.method == .GET {
            responder.respond(.ok, json: #"{"ok":true}"#)
        } else {
            responder.respond(.created, contentType: "application/json", body: body)
        }
    }
}

/// Answers each Socket.IO text packet with its re-encoded form, as a namespace would answer.
final class EchoDelegate: EngineSocketDelegate {
    func engineSocket(_ socket: EngineSocket, didReceiveText text: String) {
        if let packet = try? SocketIOPacket(decoding: text) { socket.send(text: packet.encoded) }
    }
    func engineSocket(_ socket: EngineSocket, didReceiveBinary data: ByteBuffer) {
        socket.send(binary: data)
    }
    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {}
}

let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

func makeChannel(engine: EngineServer) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    let endpoints: [any HTTPEndpoint] = [engine, EchoEndpoint()]
    try HTTPNodeServer.configure(channel, endpoints: endpoints, upgraders: [engine.makeUpgrader()])
    // Active, with a peer address, as an accepted connection is.
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
    return channel
}

/// Writes `bytes` inbound and returns what the server wrote back.
func exchange(_ channel: EmbeddedChannel, _ bytes: [UInt8]) -> [UInt8] {
    if channel.isActive {
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
    }
    channel.embeddedEventLoop.run()
    var out: [UInt8] = []
    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
    while (try? channel.readInbound(as: NIOAny.self)) != nil {}
    return out
}

let sidMarker = Array("@SID@".utf8)

func replacingSID(_ bytes: [UInt8], with sid: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        if bytes[index...].starts(with: sidMarker) {
            out += sid
            index += sidMarker.count
        } else {
            out.append(bytes[index])
            index += 1
        }
    }
    return out
}

/// The `sid` of an open packet in a handshake answer.
func sessionID(in answer: [UInt8]) -> [UInt8]? {
    let key = Array(#""sid":""#.utf8)
    guard let start = answer.indices.first(where: { answer[$0...].starts(with: key) }) else { return nil }
    let from = start + key.count
    guard let end = answer[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
    return Array(answer[from..<end])
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var bytes = fuzzBytes(start, count)
    let engine = EngineServer(configuration: EngineConfiguration(), logger: logger) { socket in
        socket.delegate = EchoDelegate()
    }
    guard let channel = try? makeChannel(engine: engine) else {
        invariant(false, "the pipeline could not be set up")
        return 0
    }
    if bytes.firstRange(of: sidMarker) != nil {
        let answer = exchange(channel, Array("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        guard let sid = sessionID(in: answer) else {
            invariant(false, "no session id in the handshake answer \(String(decoding: answer, as: UTF8.self))")
            return 0
        }
        bytes = replacingSID(bytes, with: sid)
    }
    let answer = exchange(channel, bytes)
    if !answer.isEmpty {
        invariant(answer.starts(with: Array("HTTP/1.".utf8)), "answer starts \(hex(answer.prefix(16)))")
    }
    engine.closePollingSessions()
    _ = exchange(channel, [])
    _ = try? channel.close().wait()
    channel.embeddedEventLoop.run()
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return 0
}

@_cdecl("FuzzHTTPRequest_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzHTTPRequest)
}
