import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import HTTPServer

/// An endpoint that answers every request at once with 200 `ok`.
struct EchoEndpoint: HTTPEndpoint {
    func handles(path: Substring) -> Bool { path.hasPrefix("/echo") }
    var maxBodySize: Int { 100 }
    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {
        HTTPResponder(channel: channel, request: head).respond(.ok, json: #"{"bytes":\#(body.readableBytes)}"#)
    }
}

/// An endpoint that never answers (a long-poll with nothing to say).
struct SilentEndpoint: HTTPEndpoint {
    func handles(path: Substring) -> Bool { path == "/wait" }
    var maxBodySize: Int { 100 }
    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel) {}
}

/// A node's HTTP pipeline alone, on an `EmbeddedChannel`: garbage, sizes and deadlines.
@Suite struct HTTPConnectionTests {
    static let deadlines = HTTPDeadlines(head: .seconds(10), body: .seconds(30), idle: .seconds(75), maxHeadBytes: 2_048)

    private func makeChannel(deadlines: HTTPDeadlines = Self.deadlines) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try HTTPNodeServer.configure(channel, endpoints: [EchoEndpoint(), SilentEndpoint()], deadlines: deadlines)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        channel.embeddedEventLoop.run()
    }

    private func response(_ channel: EmbeddedChannel) throws -> String {
        var out = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
        return String(buffer: out)
    }

    /// The connection stays open until `after` has passed, then closes, with a 408 when
    /// `answered` (a request was under way), by the loop's clock.
    private func expectClosed(_ channel: EmbeddedChannel, after: TimeAmount, answered: Bool) throws {
        channel.embeddedEventLoop.advanceTime(by: after - .milliseconds(100))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        if answered { #expect(try response(channel).hasPrefix("HTTP/1.1 408")) }
        #expect(!channel.isActive)
    }

    @Test func answersAndStaysOpen() throws {
        let channel = try makeChannel()
        try send(channel, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        let text = try response(channel)
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.hasSuffix(#"{"bytes":3}"#))
        #expect(channel.isActive)
    }

    @Test(arguments: ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\u{0}\u{1}\u{2}\r\n\r\n"])
    func garbageGets400AndTheConnectionCloses(_ input: String) throws {
        let channel = try makeChannel()
        try? send(channel, input)
        let text = try response(channel)
        #expect(text.hasPrefix("HTTP/1.1 400"))
        #expect(text.lowercased().contains("connection: close"))
        #expect(!channel.isActive)
    }

    @Test func aBodyOverTheLimitGets413AndCloses() throws {
        let channel = try makeChannel()
        try send(channel, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
        let text = try response(channel)
        #expect(text.hasPrefix("HTTP/1.1 413"))
        #expect(!channel.isActive)
    }

    @Test func aSilentConnectionIsClosedWhenIdle() throws {
        let channel = try makeChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(74))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aKeepAliveConnectionIsClosedWhenIdleAfterItsAnswer() throws {
        let channel = try makeChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(70))
        try send(channel, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try response(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(70))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!channel.isActive)
    }

    /// The connection's one timer is not moved when a phase starts (it fires every `head` at the
    /// latest and looks): a head begun late in an idle period still gets its own 10 s, no more.
    @Test func aHeadBegunLateInAnIdlePeriodGetsItsWholeDeadline() throws {
        let channel = try makeChannel()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(74_500))
        try send(channel, "GET /echo HTTP/1.1\r\n")
        try expectClosed(channel, after: .seconds(10), answered: true)
    }

    /// Keep-alive requests, each answered, keep a connection open however long it lives; the
    /// idle deadline then counts from the last answer.
    @Test func requestsEveryFewSecondsKeepAConnectionOpen() throws {
        let channel = try makeChannel()
        for _ in 0..<40 {
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(7_300))
            try send(channel, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try response(channel).hasPrefix("HTTP/1.1 200"))
        }
        try expectClosed(channel, after: .seconds(75), answered: false)
    }

    /// Deadlines shorter than the timer's re-check interval (100 ms) still hold, and a zero one
    /// does not spin the loop with timers that re-arm at once.
    @Test func aZeroHeadDeadlineTimesOutAtOnceAndIdleStillHolds() throws {
        let zero = HTTPDeadlines(head: .zero, body: .zero, idle: .seconds(75), maxHeadBytes: 2_048)
        try expectClosed(try makeChannel(deadlines: zero), after: .seconds(75), answered: false)

        let slow = try makeChannel(deadlines: zero)
        slow.embeddedEventLoop.advanceTime(by: .milliseconds(30_050))
        try send(slow, "GET /echo HTTP/1.1\r\n")
        #expect(try response(slow).hasPrefix("HTTP/1.1 408"))
        #expect(!slow.isActive)
    }

    /// Slowloris: a head sent a few bytes at a time never completes in time.
    @Test func aHeadThatNeverEndsGets408() throws {
        let channel = try makeChannel()
        try send(channel, "GET /echo HTTP/1.1\r\n")
        for _ in 0..<9 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            try send(channel, "X-A: b\r\n")
        }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try response(channel).hasPrefix("HTTP/1.1 408"))
        #expect(!channel.isActive)
    }

    @Test func aBodyThatNeverEndsGets408() throws {
        let channel = try makeChannel()
        try send(channel, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try response(channel).hasPrefix("HTTP/1.1 408"))
        #expect(!channel.isActive)
    }

    @Test func aHeadOverTheBoundGets431() throws {
        let channel = try makeChannel()
        try send(channel, "GET /echo HTTP/1.1\r\n")
        for _ in 0..<30 { try? send(channel, "X-Padding: " + String(repeating: "a", count: 100) + "\r\n") }
        #expect(try response(channel).hasPrefix("HTTP/1.1 431"))
        #expect(!channel.isActive)
    }

    @Test func aLargeHeadInOneReadGets431() throws {
        let channel = try makeChannel()
        try? send(channel, "GET /echo HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 3_000) + "\r\n\r\n")
        #expect(try response(channel).hasPrefix("HTTP/1.1 431"))
        #expect(!channel.isActive)
    }

    /// A request being answered (a long-poll) has no deadline of its own.
    @Test func aPendingAnswerIsNotTimedOut() throws {
        let channel = try makeChannel()
        try send(channel, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        #expect(channel.isActive)
    }

    @Test func unknownPathsGetJSON404() throws {
        let channel = try makeChannel()
        try send(channel, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = try response(channel)
        #expect(text.hasPrefix("HTTP/1.1 404"))
        #expect(text.contains(#""code":"not_found""#))
    }
}
