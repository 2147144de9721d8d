import Benchmark
import NIOCore
import RedisAdapter

// RESPReplyDecoder and RESPCommandEncoder are internal: the runner builds with -enable-testing.
@testable import RedisClient

/// Redis traffic through hiredis: pub/sub pushes in, PUBLISH out.
func respBenchmarks() {
    let channel = RedisChannels().broadcast
    let payload = Samples.redisBroadcast

    // A thousand `message` pushes as a gateway's subscriber connection reads them; the scaling
    // factor makes every figure per message.
    var push: [UInt8] = Array("*3\r\n$7\r\nmessage\r\n$\(channel.utf8.count)\r\n\(channel)\r\n$\(payload.readableBytes)\r\n".utf8)
    push += payload.readableBytesView
    push += Array("\r\n".utf8)
    let batch = Array([[UInt8]](repeating: push, count: 1_000).joined())
    Benchmark("RESP: decode pub/sub message (batches of 1,000)", configuration: .perOperation(.kilo)) { benchmark, decoder in
        try decoder.feed(batch)
        var replies = 0
        while let reply = try decoder.nextReply() {
            blackHole(reply)
            replies += 1
        }
        precondition(replies == 1_000, "hiredis returned \(replies) replies")
    } setup: {
        RESPReplyDecoder()
    }

    // What `RedisClient.publish` hands to the encoder.
    let encoder = RESPCommandEncoder()
    var out = ByteBuffer()
    Benchmark("RESP: encode PUBLISH", configuration: .perOperation(.kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            out.clear()
            try encoder.encode(data: RedisCommand([ByteBuffer(string: "PUBLISH"), ByteBuffer(string: channel), payload]), out: &out)
            blackHole(out)
        }
    }
}
