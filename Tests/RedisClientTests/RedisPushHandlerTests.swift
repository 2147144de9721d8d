import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import RedisClient

/// The subscriber's push handler alone, on an `EmbeddedChannel` behind the RESP decoder:
/// handshake replies, subscription confirmations, messages, and one test per refusal.
@Suite struct RedisPushHandlerTests {
    final class Fixture {
        let channel = EmbeddedChannel()
        let received = NIOLockedValueBox<[String]>([])
        let handler: RedisPushHandler

        init(handshakeReplies: Int = 0, confirmations: Int = 0, connect: Bool = true) throws {
            let received = self.received
            handler = RedisPushHandler(
                eventLoop: channel.eventLoop, handshakeReplies: handshakeReplies, expectedConfirmations: confirmations
            ) { message in
                let pattern = message.pattern.map { String(buffer: $0) + " " } ?? ""
                received.withLockedValue { $0.append("\(pattern)\(String(buffer: message.channel))=\(String(buffer: message.payload))") }
            }
            try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(RESPReplyDecoder()), handler)
            if connect { try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait() }
        }

        func inbound(_ text: String) {
            #expect(throws: Never.self) { try channel.writeInbound(ByteBuffer(string: text)) }
            channel.embeddedEventLoop.run()
        }

        var messages: [String] { received.withLockedValue { $0 } }
        var confirmed: Result<Void, any Error>? { outcome(handler.confirmed) }
    }

    static func bulk(_ text: String) -> String { "$\(text.utf8.count)\r\n\(text)\r\n" }
    static func push(_ items: String...) -> String { "*\(items.count)\r\n" + items.map(bulk).joined() }

    /// AUTH and SELECT replies come first; confirmed once every subscription is in place.
    @Test func confirmedAfterTheHandshakeAndEverySubscription() throws {
        let fixture = try Fixture(handshakeReplies: 2, confirmations: 2)
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound("+OK\r\n+OK\r\n")
        fixture.inbound("*3\r\n" + Self.bulk("subscribe") + Self.bulk("a") + ":1\r\n")
        #expect(fixture.confirmed == nil)
        fixture.inbound("*3\r\n" + Self.bulk("psubscribe") + Self.bulk("p#*") + ":2\r\n")
        #expect(throws: Never.self) { try fixture.confirmed?.get() }
        #expect(fixture.confirmed != nil)
    }

    @Test func messagesOfEveryKindReachTheCallback() throws {
        let fixture = try Fixture()
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound(Self.push("message", "plain", "1"))
        fixture.inbound(Self.push("pmessage", "pat#*", "pat#room#", "2"))
        fixture.inbound(Self.push("smessage", "shard", "3"))
        fixture.inbound(Self.push("message", "binary", "a\r\nb\0c"))
        #expect(fixture.messages == ["plain=1", "pat#* pat#room#=2", "shard=3", "binary=a\r\nb\0c"])
        #expect(fixture.channel.isActive)
    }

    /// Pushes that are no message, or a message of the wrong shape, are ignored: no callback,
    /// the connection stays up, and the next message still arrives.
    static let notMessages = [
        "+OK\r\n", ":5\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n", "*2\r\n:1\r\n:2\r\n", push("pong", ""),
        "*3\r\n" + bulk("unsubscribe") + bulk("plain") + ":0\r\n",
        // A confirmation beyond those expected.
        "*3\r\n" + bulk("subscribe") + bulk("extra") + ":3\r\n",
        push("message", "plain"), push("message", "plain", "1", "surplus"),
        "*3\r\n" + bulk("message") + bulk("plain") + ":5\r\n", "*3\r\n" + bulk("message") + "*0\r\n" + bulk("1"),
        push("pmessage", "pat#*", "pat#room#"), push("nosuchkind", "plain", "1"),
    ]

    @Test(arguments: notMessages)
    func aPushThatIsNoMessageIsIgnored(_ push: String) throws {
        let fixture = try Fixture()
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound(push)
        #expect(fixture.messages.isEmpty)
        #expect(fixture.channel.isActive)
        fixture.inbound(Self.push("message", "plain", "after"))
        #expect(fixture.messages == ["plain=after"])
    }

    /// A refused AUTH (or any error reply): the confirmation fails and the connection closes.
    @Test func anErrorReplyFailsTheConfirmationAndCloses() throws {
        let fixture = try Fixture(handshakeReplies: 1, confirmations: 1)
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound("-NOAUTH Authentication required.\r\n")
        #expect(throws: RedisError("NOAUTH Authentication required.")) { try fixture.confirmed?.get() }
        #expect(!fixture.channel.isActive)
    }

    @Test func anErrorAfterConfirmationCloses() throws {
        let fixture = try Fixture()
        defer { _ = try? fixture.channel.finish() }
        #expect(throws: Never.self) { try fixture.confirmed?.get() }
        fixture.inbound("-ERR something\r\n")
        #expect(!fixture.channel.isActive)
    }

    @Test func bytesThatAreNotRESPFailTheConfirmationAndClose() throws {
        let fixture = try Fixture(confirmations: 1)
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound("?garbage\r\n")
        #expect(throws: RESPProtocolError.self) { try fixture.confirmed?.get() }
        #expect(!fixture.channel.isActive)
        #expect(fixture.messages.isEmpty)
    }

    @Test func closingBeforeTheConfirmationFailsIt() throws {
        let fixture = try Fixture(handshakeReplies: 1, confirmations: 3)
        defer { _ = try? fixture.channel.finish() }
        fixture.inbound("+OK\r\n")
        try fixture.channel.close().wait()
        fixture.channel.embeddedEventLoop.run()
        #expect(throws: RedisConnectionClosed.self) { try fixture.confirmed?.get() }
    }

    /// A connection that never came up is torn down without going inactive.
    @Test func aConnectionThatNeverCameUpStillSettles() throws {
        let fixture = try Fixture(confirmations: 1, connect: false)
        defer { _ = try? fixture.channel.finish() }
        #expect(fixture.confirmed == nil)
        _ = try? fixture.channel.finish()
        #expect(throws: RedisConnectionClosed.self) { try fixture.confirmed?.get() }
    }
}
