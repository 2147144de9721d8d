import NIOCore
import NIOEmbedded
import Testing

@testable import RedisClient

/// The command handler alone, on an `EmbeddedChannel` with the RESP codec beneath it: replies
/// paired with commands in order, and one test per way the connection can go wrong.
@Suite struct RedisCommandHandlerTests {
    /// A connected channel: RESP decoder, command encoder, optional `extra` handlers, command handler.
    func makeChannel(_ extra: [any ChannelHandler] = []) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(RESPReplyDecoder()), MessageToByteHandler(RESPCommandEncoder()))
        try channel.pipeline.syncOperations.addHandlers(extra)
        try channel.pipeline.syncOperations.addHandler(RedisCommandHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Writes `command` and returns the promise of its reply (and of the write).
    @discardableResult
    func send(_ command: RedisCommand, on channel: EmbeddedChannel) -> (reply: EventLoopFuture<RESPValue>, written: EventLoopFuture<Void>) {
        let reply = channel.eventLoop.makePromise(of: RESPValue.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // As `RedisConnector.send` does: a write that never reaches the handler fails its reply.
        written.futureResult.assumeIsolated().whenFailure { reply.fail($0) }
        channel.writeAndFlush(RedisRequest(command: command, promise: reply), promise: written)
        return (reply.futureResult, written.futureResult)
    }

    func inbound(_ text: String, on channel: EmbeddedChannel) {
        // Errors reach the handler's errorCaught; what it lets through would be rethrown here.
        #expect(throws: Never.self) { try channel.writeInbound(ByteBuffer(string: text)) }
        channel.embeddedEventLoop.run()
    }

    @Test func repliesAnswerPipelinedCommandsInOrder() throws {
        let channel = try makeChannel()
        defer { _ = try? channel.finish() }
        let ping = send(RedisCommand("PING"), on: channel).reply
        let get = send(RedisCommand("GET", "k"), on: channel).reply
        let missing = send(RedisCommand("GET", "missing"), on: channel).reply
        let wrong = send(RedisCommand("NOSUCH"), on: channel).reply
        let after = send(RedisCommand("INCR", "n"), on: channel).reply
        var sent = ByteBuffer()
        while var bytes = try channel.readOutbound(as: ByteBuffer.self) { sent.writeBuffer(&bytes) }
        #expect(String(buffer: sent) == "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"
            + "*1\r\n$6\r\nNOSUCH\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n")

        inbound("+PONG\r\n$3\r\nbar\r\n$-1\r\n-ERR unknown command\r\n:", on: channel)
        #expect(try outcome(ping)?.get() == .simpleString("PONG"))
        #expect(try outcome(get)?.get() == .bulkString(ByteBuffer(string: "bar")))
        #expect(try outcome(missing)?.get() == .bulkString(nil))
        #expect(throws: RedisError("ERR unknown command")) { try outcome(wrong)?.get() }
        #expect(outcome(after) == nil, "half a reply answers nothing")
        inbound("7\r\n", on: channel)
        #expect(try outcome(after)?.get() == .integer(7))
        #expect(channel.isActive, "an error reply is an answer, not a broken connection")
    }

    /// A reply nobody asked for means the stream is out of step: the connection is closed.
    @Test func aReplyWithNoCommandClosesTheConnection() throws {
        let channel = try makeChannel()
        defer { _ = try? channel.finish() }
        inbound("+OK\r\n", on: channel)
        #expect(!channel.isActive)
    }

    /// A surplus reply after the answered ones: the connection is closed, later writes fail.
    @Test func aSurplusReplyClosesTheConnection() throws {
        let channel = try makeChannel()
        defer { _ = try? channel.finish() }
        let first = send(RedisCommand("PING"), on: channel).reply
        inbound("+PONG\r\n+PONG\r\n", on: channel)
        #expect(try outcome(first)?.get() == .simpleString("PONG"))
        #expect(!channel.isActive)
        let late = send(RedisCommand("PING"), on: channel)
        channel.embeddedEventLoop.run()
        #expect(outcome(late.written).map { (try? $0.get()) == nil } == true, "a write on the closed connection fails")
    }

    /// Bytes that are not RESP: every pending command fails, and the connection is closed.
    @Test func bytesThatAreNotRESPFailEveryPendingCommand() throws {
        let channel = try makeChannel()
        defer { _ = try? channel.finish() }
        let first = send(RedisCommand("PING"), on: channel).reply
        let second = send(RedisCommand("PING"), on: channel).reply
        inbound("?garbage\r\n", on: channel)
        #expect(throws: RESPProtocolError.self) { try outcome(first)?.get() }
        #expect(throws: RESPProtocolError.self) { try outcome(second)?.get() }
        #expect(!channel.isActive)
    }

    @Test func closingFailsEveryPendingCommand() throws {
        let channel = try makeChannel()
        defer { _ = try? channel.finish() }
        let answered = send(RedisCommand("PING"), on: channel).reply
        let first = send(RedisCommand("PING"), on: channel).reply
        let second = send(RedisCommand("PING"), on: channel).reply
        inbound("+PONG\r\n", on: channel)
        try channel.close().wait()
        channel.embeddedEventLoop.run()
        #expect(try outcome(answered)?.get() == .simpleString("PONG"))
        #expect(throws: RedisConnectionClosed.self) { try outcome(first)?.get() }
        #expect(throws: RedisConnectionClosed.self) { try outcome(second)?.get() }
    }

    /// A write that fails means a dead connection: no reply will come for anything waiting.
    @Test func aFailedWriteFailsEveryPendingCommand() throws {
        let channel = try makeChannel([RefusingWrites(refusing: [2])])
        defer { _ = try? channel.finish() }
        let first = send(RedisCommand("PING"), on: channel)
        let second = send(RedisCommand("PING"), on: channel)
        channel.embeddedEventLoop.run()
        #expect(throws: Never.self) { try outcome(first.written)?.get() }
        #expect(throws: RefusingWrites.Refused.self) { try outcome(second.written)?.get() }
        #expect(throws: RefusingWrites.Refused.self) { try outcome(first.reply)?.get() }
        #expect(throws: RefusingWrites.Refused.self) { try outcome(second.reply)?.get() }
    }

    /// After a failed write the stream is out of step: a reply that still comes (to a command
    /// written before) must answer no later command.
    @Test func aReplyAfterAFailedWriteAnswersNoLaterCommand() throws {
        let channel = try makeChannel([RefusingWrites(refusing: [2])])
        defer { _ = try? channel.finish() }
        send(RedisCommand("PING"), on: channel)
        send(RedisCommand("PING"), on: channel)
        let later = send(RedisCommand("GET", "k"), on: channel)
        inbound("+PONG\r\n", on: channel)  // the first PING's reply, which was on the wire
        let answer = outcome(later.reply).flatMap { try? $0.get() }
        #expect(answer != .simpleString("PONG"), "GET k was answered with the reply of an earlier PING")
    }
}

/// Fails the writes of the given (1-based) positions, lets the others through.
final class RefusingWrites: ChannelOutboundHandler {
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = RedisCommand
    struct Refused: Error {}

    private let refusing: Set<Int>
    private var count = 0

    init(refusing: Set<Int>) { self.refusing = refusing }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        count += 1
        guard !refusing.contains(count) else {
            promise?.fail(Refused())
            return
        }
        context.write(data, promise: promise)
    }
}

/// The result of `future` if it is complete (on the embedded loop, callbacks of a completed
/// future run at once); nil while it is pending.
func outcome<Value>(_ future: EventLoopFuture<Value>) -> Result<Value, any Error>? {
    var result: Result<Value, any Error>?
    future.assumeIsolated().whenComplete { result = $0 }
    return result
}
