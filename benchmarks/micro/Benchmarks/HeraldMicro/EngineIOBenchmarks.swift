import Benchmark
import EngineIO
import NIOCore

/// Engine.IO framing: one packet each way, and a long-polling payload each way.
func engineIOBenchmarks() {
    let allocator = ByteBufferAllocator()
    let message = EnginePacket.message(Samples.eventText)
    let messageText = "4" + Samples.eventText

    // As WebSocketTransport writes a packet of one session: a fresh small buffer, then the frame.
    Benchmark("EngineIO: encode message packet", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = allocator.buffer(capacity: 16)
            message.write(to: &buffer)
            blackHole(buffer)
        }
    }

    Benchmark("EngineIO: decode message packet", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try EnginePacket(text: messageText))
        }
    }

    // A GET answer: eight queued packets, already encoded, joined by the record separator.
    let queued: [ByteBuffer] = [ByteBuffer(string: "2")] + Array(repeating: ByteBuffer(string: messageText), count: 7)
    Benchmark("EngineIO: encode polling payload (8 packets)", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PollingPayload.encode(queued))
        }
    }

    // A POST body: a pong, six events and one binary attachment.
    var posted = ByteBuffer(string: "3")
    for _ in 0..<6 {
        posted.writeInteger(UInt8(0x1E))
        posted.writeString("4" + #"42["join",{"channel":"guest:g1"}]"#)
    }
    posted.writeInteger(UInt8(0x1E))
    posted.writeString("bAAECAwQFBgcICQoLDA0ODw==")
    Benchmark("EngineIO: decode polling payload (8 packets)", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try PollingPayload.decode(posted))
        }
    }
}
