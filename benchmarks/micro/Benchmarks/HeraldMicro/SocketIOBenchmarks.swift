import Benchmark
import SocketIO
import Vocabulary

/// Socket.IO packets: the `points_added` EVENT each way (JSON through `JSONValue`).
func socketIOBenchmarks() {
    let event = Samples.event
    let text = Samples.eventText

    Benchmark("SocketIO: encode EVENT points_added", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(event.encoded)
        }
    }

    Benchmark("SocketIO: decode EVENT points_added", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SocketIOPacket(decoding: text))
        }
    }
}
