// Redis replies through hiredis' reader (RESPReplyDecoder, a ByteToMessageDecoder), driven as on
// a connection: the input is written inbound in chunks (fuzzChunks) on an EmbeddedChannel.
//
// Invariants: the replies and the verdict (error or not) do not depend on how the bytes were
// split (chunked vs all at once); each reply, written back as RESP2, decodes to itself.
import FuzzSupport
import NIOCore
import NIOEmbedded
@testable import RedisClient

struct Outcome: Equatable {
    var replies: [RESPValue] = []
    var failed = false
}

func run(_ parts: [[UInt8]]) -> Outcome {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder()))
    var outcome = Outcome()
    defer { _ = try? channel.finish() }
    for part in parts {
        do {
            try channel.writeInbound(ByteBuffer(bytes: part))
        } catch {
            outcome.failed = true
        }
        while let reply = try? channel.readInbound(as: RESPValue.self) { outcome.replies.append(reply) }
        if outcome.failed { break }
    }
    return outcome
}

func write(_ value: RESPValue, to out: inout [UInt8]) {
    switch value {
    case .simpleString(let text): out += Array("+\(text)\r\n".utf8)
    case .error(let text): out += Array("-\(text)\r\n".utf8)
    case .integer(let number): out += Array(":\(number)\r\n".utf8)
    case .bulkString(nil), .array(nil): out += Array("$-1\r\n".utf8)
    case .bulkString(let bytes?):
        out += Array("$\(bytes.readableBytes)\r\n".utf8)
        out += bytes.readableBytesView
        out += Array("\r\n".utf8)
    case .array(let items?):
        out += Array("*\(items.count)\r\n".utf8)
        for item in items { write(item, to: &out) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(start, count)
    let whole = run([bytes])
    // The same bytes in pieces: the chunk headers are the fuzzer's choice of split points.
    var pieces: [[UInt8]] = []
    var index = 0
    for chunk in fuzzChunks(bytes) where index < bytes.count {
        let length = min(chunk.bytes.count + 1, bytes.count - index)
        pieces.append(Array(bytes[index..<index + length]))
        index += length
    }
    let chunked = run(pieces)
    invariant(whole == chunked, "all at once \(whole), in \(pieces.count) pieces \(chunked)")
    for reply in whole.replies {
        // Text that hiredis reads as a status or error line cannot hold CR LF; what was not UTF-8
        // was repaired on the way in, so its bytes differ but it reads the same.
        var out: [UInt8] = []
        write(reply, to: &out)
        let again = run([out])
        invariant(again == Outcome(replies: [reply]), "\(reply) written as \(hex(out)) reads as \(again)")
    }
    return 0
}

@_cdecl("FuzzRESP_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRESP)
}
