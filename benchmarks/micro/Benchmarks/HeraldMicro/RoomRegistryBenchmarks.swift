import Benchmark
import CoreMetrics
import Logging
import NIOCore
import NIOEmbedded
import RedisAdapter

// Sockets are made by hand, as the SocketIO tests make them: their initializers are internal.
@testable import EngineIO
@testable import SocketIO

/// Room membership and broadcast lookup on one event loop's `RoomRegistry`.
func roomRegistryBenchmarks() {
    let members = 10_000
    let room = "restaurant:r1"
    let options = BroadcastOptions(rooms: [room])

    // A socket joins a room of its own (as `guest:<id>`) and leaves it.
    Benchmark(
        "RoomRegistry: join + leave a new room (10,000 sockets)", configuration: .perOperation(.kilo)
    ) { benchmark, fixture in
        for index in benchmark.scaledIterations {
            let socket = fixture.sockets[index % members]
            socket.join("guest:g1")
            socket.leave("guest:g1")
        }
    } setup: {
        RegistryFixture(sockets: members, room: room)
    }

    // A socket leaves the crowded room and joins it again.
    Benchmark("RoomRegistry: leave + join a room of 10,000", configuration: .perOperation(.one)) { _, fixture in
        let socket = fixture.sockets[0]
        socket.leave(room)
        socket.join(room)
    } setup: {
        RegistryFixture(sockets: members, room: room)
    }

    Benchmark("RoomRegistry: look up a room of 10,000", configuration: .perOperation(.one)) { _, fixture in
        var found = 0
        fixture.registry.forEach(matching: options) { _ in found += 1 }
        precondition(found == members)
    } setup: {
        RegistryFixture(sockets: members, room: room)
    }

    // A broadcast from Redis to the room on a one-loop LocalAdapter: decode, encode once, then
    // the loop's side: write the frame to every member and flush each.
    Benchmark("LocalAdapter: Redis broadcast to a room of 10,000", configuration: .perOperation(.one)) { _, fixture in
        guard let broadcast = RedisBroadcast(decoding: Samples.redisBroadcast) else { fatalError("sample did not decode") }
        fixture.adapter.deliver(broadcast.packet, options: BroadcastOptions(rooms: [room]))
        fixture.loop.run()
    } setup: {
        RegistryFixture(sockets: members, room: room)
    }
}

/// A WebSocket-like transport that drops what it is sent: a delivery without the I/O. Like
/// `WebSocketTransport`, it asks for a flush after the first broadcast write since the last one.
final class NullTransport: EngineTransport {
    let name = TransportName.websocket
    private var unflushed = false

    func send(_ packet: EnginePacket) {}
    func send(_ message: PreparedMessage) {}

    func write(_ message: PreparedMessage) -> Bool {
        defer { unflushed = true }
        return !unflushed
    }

    func flushWrites() {
        unflushed = false
    }

    func close(notifyPeer: Bool) {}
}

/// One embedded event loop's adapter and registry, with `count` sockets that are all in `room`.
final class RegistryFixture {
    let loop: EmbeddedEventLoop
    let adapter: LocalAdapter
    let registry: RoomRegistry
    let sockets: [SocketIOSocket]

    init(sockets count: Int, room: String) {
        let loop = EmbeddedEventLoop()
        let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
        let logger = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
        let adapter = LocalAdapter(group: loop, metrics: metrics, logger: logger)
        let registry = adapter.registry(on: loop)
        sockets = (0..<count).map { _ in
            let engine = EngineSocket(
                id: EngineServer.makeSessionID(), eventLoop: loop, handshake: .init(), configuration: .init(),
                transport: NullTransport()
            ) { _ in }
            let socket = SocketIOSocket(id: EngineServer.makeSessionID(), engine: engine, registry: registry, metrics: metrics)
            registry.add(socket)
            socket.join(room)
            return socket
        }
        self.loop = loop
        self.adapter = adapter
        self.registry = registry
    }
}
