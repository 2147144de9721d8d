import NIOCore
import Testing

@testable import RedisClient

/// Replies parsed by hiredis' reader and commands formatted by hiredis, through our wrappers.
@Suite struct RESPTests {
    func parse(_ chunks: [String]) throws -> [RESPValue] {
        let decoder = RESPReplyDecoder()
        var replies: [RESPValue] = []
        for chunk in chunks {
            try decoder.feed(Array(chunk.utf8))
            while let reply = try decoder.nextReply() { replies.append(reply) }
        }
        return replies
    }

    @Test func everyReplyType() throws {
        let replies = try parse(["+OK\r\n-ERR wrong\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n",
                                 "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*1\r\n:1\r\n"])
        #expect(replies == [
            .simpleString("OK"), .error("ERR wrong"), .integer(42), .integer(-7),
            .bulkString(ByteBuffer(string: "hello")), .bulkString(ByteBuffer()), .bulkString(nil),
            .bulkString(nil), .array([]),
            .array([.bulkString(ByteBuffer(string: "message")), .bulkString(ByteBuffer(string: "ch")), .array([.integer(1)])]),
        ])
    }

    /// A reply split anywhere comes out whole once its last byte arrives.
    @Test func partialReads() throws {
        let wire = "*2\r\n$6\r\nfoobar\r\n:1000\r\n"
        for split in 1..<wire.utf8.count {
            let bytes = Array(wire.utf8)
            let replies = try parse([String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)])
            #expect(replies == [.array([.bulkString(ByteBuffer(string: "foobar")), .integer(1000)])], "split at \(split)")
        }
        #expect(try parse(["$6\r\nfoo"]) == [])
    }

    @Test func binarySafeBulkStrings() throws {
        let decoder = RESPReplyDecoder()
        try decoder.feed(Array("$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF] + Array("\r\n".utf8))
        #expect(try decoder.nextReply() == .bulkString(ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF])))
    }

    @Test func garbageIsAProtocolError() {
        #expect(throws: (any Error).self) { try parse(["?what\r\n"]) }
    }

    @Test func commandsAreFormattedWithExplicitLengths() {
        var buffer = ByteBuffer()
        RedisCommand([ByteBuffer(string: "PUBLISH"), ByteBuffer(string: "socket.io#/#"), ByteBuffer(bytes: [0x93, 0x00, 0x0D, 0x0A])])
            .write(to: &buffer)
        #expect(Array(buffer.readableBytesView)
            == Array("*3\r\n$7\r\nPUBLISH\r\n$12\r\nsocket.io#/#\r\n$4\r\n".utf8) + [0x93, 0x00, 0x0D, 0x0A] + Array("\r\n".utf8))
    }

    @Test func urls() {
        #expect(RedisURL("redis://127.0.0.1:6380/2") == RedisURL(host: "127.0.0.1", port: 6380, database: 2))
        #expect(RedisURL("redis://:s%40cret@redis") == RedisURL(host: "redis", password: "s@cret"))
        #expect(RedisURL("redis://user:pw@h:1/0") == RedisURL(host: "h", port: 1, username: "user", password: "pw"))
        #expect(RedisURL("redis://[::1]:6379") == RedisURL(host: "::1"))
        #expect(RedisURL("http://h") == nil)
        #expect(RedisURL("redis://h:notaport") == nil)
        #expect(RedisURL("redis://h/x") == nil)
        #expect(RedisURL("redis://") == nil)
        #expect(RedisURL("redis://:pw@h/3")?.handshake.count == 2)
    }
}
