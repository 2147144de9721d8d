import Benchmark
import EngineIO
import MessagePack
import NIOCore
import RedisAdapter
import SocketIO

/// One broadcast arriving on a gateway from Redis, up to the bytes every recipient is written.
///
/// The full path is what `ClusterRequests.handle` and `LocalAdapter.deliver` do per broadcast,
/// before the fan-out: MessagePack to `RedisBroadcast`, the packet's text, then the prepared
/// WebSocket frame and polling packet.
func broadcastBenchmarks() {
    let payload = Samples.redisBroadcast

    Benchmark("Broadcast: MessagePack decode", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try MessagePackValue(decoding: payload))
        }
    }

    Benchmark("Broadcast: RedisBroadcast decode", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(RedisBroadcast(decoding: payload))
        }
    }

    Benchmark("Broadcast: MessagePack to WebSocket frame", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            guard let broadcast = RedisBroadcast(decoding: payload) else { fatalError("sample broadcast did not decode") }
            blackHole(PreparedMessage(message: ByteBuffer(string: broadcast.packet.encoded)))
        }
    }
}
